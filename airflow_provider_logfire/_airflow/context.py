"""The one place that reads an Airflow task context to decide a run's time window.

Operators, sensors and transfers call `window_from_context(context, ...)` in `execute` and get a
`TimeWindow`; all the rules live in the Airflow-free `windows.resolve_window`. Kept apart so that
the shape of Airflow's context (which keys exist for which kind of run) is handled once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airflow_provider_logfire.core.windows import TimeWindow, resolve_window

__all__ = ["window_from_context"]


def _run_after(dag_run: Any) -> Any:
    """`dag_run.run_after`, whether the run is an SDK/ORM object or a plain mapping (tests, callbacks)."""
    if dag_run is None:
        return None
    if isinstance(dag_run, Mapping):
        return dag_run.get("run_after")
    return getattr(dag_run, "run_after", None)


def window_from_context(
    context: Mapping[str, Any],
    *,
    min_timestamp: Any = None,
    max_timestamp: Any = None,
    window: timedelta | None = None,
) -> TimeWindow:
    """The time window a task of this run should query; see `resolve_window` for the rules.

    In Airflow 3 a run without a logical date (manual trigger without one, asset-triggered) has no
    `logical_date`/`data_interval_*` keys at all, and scheduled runs of the default cron timetable
    have a zero-width interval; both are handled by `resolve_window`, which either derives a window
    (from `window` and `dag_run.run_after`) or fails saying how to fix the DAG. `min_timestamp` and
    `max_timestamp` are the operator's own arguments, already Jinja-rendered.
    """
    return resolve_window(
        min_timestamp=min_timestamp,
        max_timestamp=max_timestamp,
        data_interval_start=context.get("data_interval_start"),
        data_interval_end=context.get("data_interval_end"),
        logical_date=context.get("logical_date"),
        run_after=_run_after(context.get("dag_run")),
        window=window,
    )
