"""window_from_context: plain context mappings, then real DAG runs through Airflow's `dag.test()`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_logfire._airflow.context import window_from_context
from airflow_provider_logfire.core.windows import TimeWindow, WindowError

UTC = timezone.utc
DAY = timedelta(days=1)
NOV27 = datetime(2026, 11, 27, tzinfo=UTC)
NOV28 = datetime(2026, 11, 28, tzinfo=UTC)


# -- context mappings shaped like Airflow 3's -------------------------------------------------------


def scheduled_context(start: datetime, end: datetime, logical: datetime) -> dict[str, Any]:
    return {
        "data_interval_start": pendulum.instance(start),
        "data_interval_end": pendulum.instance(end),
        "logical_date": pendulum.instance(logical),
        "dag_run": SimpleNamespace(run_after=pendulum.instance(end)),
    }


def test_data_interval_timetable_context_gives_the_interval() -> None:
    context = scheduled_context(NOV27, NOV28, NOV27)
    assert window_from_context(context) == TimeWindow(NOV27, NOV28)


def test_zero_width_context_needs_a_window() -> None:
    context = scheduled_context(NOV28, NOV28, NOV28)
    with pytest.raises(
        WindowError, match=r"zero-width \(2026-11-28T00:00:00\+00:00 to 2026-11-28T00:00:00\+00:00\)"
    ):
        window_from_context(context)
    assert window_from_context(context, window=DAY) == TimeWindow(NOV27, NOV28)


def test_manual_run_without_logical_date_uses_run_after() -> None:
    """Airflow 3 leaves the logical_date and data_interval_* keys out entirely for such runs."""
    run_after = datetime(2026, 11, 28, 6, tzinfo=UTC)
    for dag_run in (
        SimpleNamespace(run_after=pendulum.instance(run_after)),
        {"run_after": run_after.isoformat()},
    ):
        context = {"dag_run": dag_run, "run_id": "manual__2026-11-28T06:00:00+00:00"}
        assert window_from_context(context, window=timedelta(hours=6)) == TimeWindow(
            datetime(2026, 11, 28, tzinfo=UTC), run_after
        )
        with pytest.raises(WindowError, match="no logical date"):
            window_from_context(context)


def test_rendered_bounds_override_the_context() -> None:
    context = scheduled_context(NOV27, NOV28, NOV27)
    window = window_from_context(
        context, min_timestamp="2026-11-27 06:00:00+00:00", max_timestamp="2026-11-27T07:00:00Z"
    )
    assert window == TimeWindow(datetime(2026, 11, 27, 6, tzinfo=UTC), datetime(2026, 11, 27, 7, tzinfo=UTC))
    only_min = window_from_context(context, min_timestamp="2026-11-27T12:00:00+01:00")
    assert only_min == TimeWindow(datetime(2026, 11, 27, 11, tzinfo=UTC), NOV28)


def test_empty_context_explains_itself() -> None:
    with pytest.raises(WindowError, match="no logical date and no data interval"):
        window_from_context({})
    with pytest.raises(WindowError, match="min_timestamp=''"):
        window_from_context({}, min_timestamp="", max_timestamp="2026-11-28")


# -- real runs through Airflow ----------------------------------------------------------------------

DAG_FILE = '''
"""DAGs for test_context_window.py: each task resolves its run's window and records it."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire._airflow.context import window_from_context

UTC = timezone.utc
DEFAULTS = {"retries": 0}


def resolve(label: str, **kwargs):
    context = get_current_context()
    entry = {
        "label": f"{os.environ['H3_RUN']}/{label}",
        "airflow": {key: str(context.get(key)) for key in ("logical_date", "data_interval_start", "data_interval_end")},
        "run_after": str(context["dag_run"].run_after),
    }
    try:
        entry["window"] = list(window_from_context(context, **kwargs).isoformat())
        return entry["window"]
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with open(os.environ["H3_RESULTS"], "a") as out:
            out.write(json.dumps(entry) + "\\n")


@dag(
    dag_id="h3_interval_daily",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args=DEFAULTS,
)
def interval_daily():
    @task
    def from_interval():
        return resolve("interval")

    @task
    def from_rendered(low: str, high: str):
        return resolve("interval_rendered", min_timestamp=low, max_timestamp=high)

    from_interval()
    from_rendered("{{ data_interval_start }}", "{{ data_interval_end }}")


@dag(
    dag_id="h3_cron_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args=DEFAULTS,
)
def cron_daily():
    @task
    def without_window():
        return resolve("no_window")

    @task
    def with_window():
        return resolve("window", window=timedelta(days=1))

    without_window()
    with_window()


interval_dag = interval_daily()
cron_dag = cron_daily()

if __name__ == "__main__":
    runs = [
        ("interval", interval_dag, {"logical_date": datetime(2026, 11, 28, tzinfo=UTC)}),
        ("cron", cron_dag, {"logical_date": datetime(2026, 11, 28, tzinfo=UTC)}),
        ("manual", cron_dag, {"logical_date": None, "run_after": datetime(2026, 11, 28, 6, tzinfo=UTC)}),
    ]
    for run, dag_object, kwargs in runs:
        os.environ["H3_RUN"] = run
        dag_run = dag_object.test(**kwargs)
        record = {
            "run": run,
            "state": str(dag_run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()},
            "timetable": type(dag_object.timetable).__name__,
        }
        with open(os.environ["H3_RUNS"], "a") as out:
            out.write(json.dumps(record) + "\\n")
'''


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def airflow_runs(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run three DAG runs in one subprocess (Airflow env only there) and collect what the tasks saw."""
    work = tmp_path_factory.mktemp("h3_context")
    dags = work / "dags"
    dags.mkdir()
    dag_file = dags / "h3_window_dags.py"
    dag_file.write_text(DAG_FILE)
    env = {
        **os.environ,
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # The production default. conftest's AIRFLOW__CORE__UNIT_TEST_MODE loads Airflow's
        # unit_tests.cfg, which flips it to true and turns schedule="@daily" into data intervals.
        "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "False",
        "H3_RESULTS": str(work / "results.jsonl"),
        "H3_RUNS": str(work / "runs.jsonl"),
    }
    proc = subprocess.run(
        [sys.executable, str(dag_file)], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    runs = {entry["run"]: entry for entry in _lines(work / "runs.jsonl")}
    tasks = {entry["label"]: entry for entry in _lines(work / "results.jsonl")}
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert set(runs) == {"interval", "cron", "manual"}, proc.stderr[-4000:]
    return {"runs": runs, "tasks": tasks}


def test_airflow_data_interval_timetable_resolves_the_day(airflow_runs: dict[str, Any]) -> None:
    run = airflow_runs["runs"]["interval"]
    assert run["timetable"] == "CronDataIntervalTimetable"
    assert run["state"] == "success", run
    task = airflow_runs["tasks"]["interval/interval"]
    assert task["window"] == ["2026-11-27T00:00:00+00:00", "2026-11-28T00:00:00+00:00"]
    # Jinja-rendered {{ data_interval_start }} / {{ data_interval_end }} strings give the same window.
    assert airflow_runs["tasks"]["interval/interval_rendered"]["window"] == task["window"]


def test_airflow_default_cron_schedule_is_zero_width(airflow_runs: dict[str, Any]) -> None:
    run = airflow_runs["runs"]["cron"]
    assert run["timetable"] == "CronTriggerTimetable"
    assert run["tasks"] == {"without_window": "failed", "with_window": "success"}
    error = airflow_runs["tasks"]["cron/no_window"]["error"]
    assert error.startswith("WindowError: ")
    assert "zero-width (2026-11-28T00:00:00+00:00 to 2026-11-28T00:00:00+00:00)" in error
    assert "CronDataIntervalTimetable" in error
    assert "window=timedelta(days=1)" in error
    assert airflow_runs["tasks"]["cron/window"]["window"] == [
        "2026-11-27T00:00:00+00:00",
        "2026-11-28T00:00:00+00:00",
    ]


def test_airflow_run_without_logical_date(airflow_runs: dict[str, Any]) -> None:
    run = airflow_runs["runs"]["manual"]
    assert run["tasks"] == {"without_window": "failed", "with_window": "success"}
    failed = airflow_runs["tasks"]["manual/no_window"]
    assert failed["airflow"] == {
        "logical_date": "None",
        "data_interval_start": "None",
        "data_interval_end": "None",
    }
    assert failed["run_after"] == "2026-11-28 06:00:00+00:00"
    assert "no logical date and no data interval (run_after 2026-11-28T06:00:00+00:00)" in failed["error"]
    assert "asset-triggered" in failed["error"]
    # window=timedelta(days=1) ends at run_after.
    assert airflow_runs["tasks"]["manual/window"]["window"] == [
        "2026-11-27T06:00:00+00:00",
        "2026-11-28T06:00:00+00:00",
    ]


def test_dag_test_context_facts(airflow_runs: dict[str, Any]) -> None:
    """What Airflow 3.3's dag.test(logical_date=...) puts in the context (documented for operator authors)."""
    interval = airflow_runs["tasks"]["interval/interval"]["airflow"]
    # The data interval is the last complete one *before* logical_date, so logical_date is its end,
    # not its start as in a scheduled run of the same timetable.
    assert interval == {
        "logical_date": "2026-11-28 00:00:00+00:00",
        "data_interval_start": "2026-11-27 00:00:00+00:00",
        "data_interval_end": "2026-11-28 00:00:00+00:00",
    }
