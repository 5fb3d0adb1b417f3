"""The query window and row limit: held by a connection, inherited or overridden by its cursors.

Every query is one HTTP request over a time window. A bound is an instant, an age (a
`timedelta`, "that long before now", evaluated per query so that a long-lived connection keeps
reading the recent past), or None (no bound).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.dbapi.exceptions import InterfaceError

DEFAULT_LIMIT = MAX_LIMIT
DEFAULT_MIN_AGE = timedelta(days=1)

#: A time bound as users give it: an instant, an age ("that long before now"), or no bound.
TimeBound = datetime | timedelta | None


def checked_bound(value: object, name: str) -> TimeBound:
    if value is None or isinstance(value, (datetime, timedelta)):
        return value
    raise InterfaceError(
        f"{name} must be a datetime, a timedelta (that long before now) or None, "
        f"got {type(value).__name__} {value!r}"
    )


def resolved_bound(bound: TimeBound) -> datetime | None:
    """The instant a bound stands for now: an age is counted back from this moment."""
    if isinstance(bound, timedelta):
        return datetime.now(timezone.utc) - bound
    return bound


def checked_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InterfaceError(
            f"limit must be an integer from 1 to {MAX_LIMIT:,} (the Logfire API maximum), got {value!r}"
        )
    return value


class _Unset:
    """Marks a cursor attribute that follows its connection."""

    def __repr__(self) -> str:
        return "<inherited>"


#: The value of a cursor attribute that follows its connection.
INHERIT: Any = _Unset()
