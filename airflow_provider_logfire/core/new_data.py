"""Has new telemetry arrived since the last look? The question an event-driven watcher asks.

A watcher ("run when new errors for service X appear") polls one aggregate query and keeps a
cursor: the newest `created_at` (insert time) it has already reported. Each poll counts the
matching rows inserted after the cursor; a non-empty batch is reported once and moves the cursor
to its newest `created_at`, so the same rows never fire twice. The cursor is on insert time, not
on `start_timestamp`, because Logfire writes a long span when it ends, hours after it started:
a cursor on start times would skip it.

- `settle`: only rows inserted at least this long ago (by the server's clock, `now()`) count, so
  that rows whose insert time is older than the cursor but that become visible a little later
  (parallel ingest) are still seen. The price is that a batch fires `settle` late.
- `lookback`: the API's `min_timestamp` (Logfire requires one) is `now - lookback` of the
  watcher's clock; new rows whose start time is older than that are not seen.
- No cursor yet (the first poll of a new watcher): the poll only records the newest insert time
  as the starting point and reports nothing, so a new watcher fires for what arrives after it
  starts, not for history.

No Airflow here: the trigger (triggers/new_data.py) runs these queries and keeps the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_logfire.core.availability import TIME_COLUMNS, AvailabilityQuery
from airflow_provider_logfire.core.planning import quote_identifier, timestamp_literal
from airflow_provider_logfire.core.windows import parse_timestamp
from airflow_provider_logfire.exceptions import LogfireConfigError

__all__ = ["NewDataBatch", "NewDataWatch"]

_TABLES = ("records", "metrics")


@dataclass(frozen=True)
class NewDataBatch:
    """The answer of one poll: how many matching rows arrived after the cursor, and the newest."""

    count: int
    newest_created_at: datetime | None
    newest_timestamp: datetime | None

    def payload(self, *, since: datetime | None, table: str, min_timestamp: datetime) -> dict[str, Any]:
        """The trigger event's payload (JSON-small; it becomes the asset event's `extra["payload"]`).

        `min_timestamp` is the API bound the poll used: with it and the two insert times a
        consumer can read back exactly the rows of the batch.
        """
        return {
            "table": table,
            "count": self.count,
            "min_timestamp": _iso(min_timestamp),
            "since_created_at": since.isoformat() if since is not None else None,
            "newest_created_at": _iso(self.newest_created_at),
            f"newest_{TIME_COLUMNS[table]}": _iso(self.newest_timestamp),
        }


@dataclass(frozen=True)
class NewDataWatch:
    """What a watcher looks for: rows of `table` matching `where`, newer than its cursor."""

    table: str = "records"
    where: str | None = None
    settle: timedelta = timedelta(seconds=30)
    lookback: timedelta = timedelta(days=1)
    environment: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.table not in _TABLES:
            raise LogfireConfigError(f"table must be one of {', '.join(_TABLES)}, got {self.table!r}")
        if self.settle < timedelta(0):
            raise LogfireConfigError(f"settle must not be negative, got {self.settle}")
        if self.lookback <= timedelta(0):
            raise LogfireConfigError(f"lookback must be positive, got {self.lookback}")

    def query(self, cursor: datetime | None, *, now: datetime) -> AvailabilityQuery:
        """The poll: count, newest insert time and newest time-column value of the new rows."""
        column = quote_identifier(TIME_COLUMNS[self.table])
        conditions = []
        if cursor is not None:
            conditions.append(f"created_at > {timestamp_literal(cursor)}")
        if self.settle:
            conditions.append(
                f"created_at <= now() - INTERVAL '{int(self.settle.total_seconds() * 1e6)} microseconds'"
            )
        if self.where:
            conditions.append(f"({self.where})")
        sql = (
            f"SELECT count(*) AS n, max(created_at) AS newest_created_at, max({column}) AS newest_timestamp "
            f"FROM {quote_identifier(self.table)}"
        )
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        return AvailabilityQuery(sql, now - self.lookback, None, self.environment)

    @staticmethod
    def read(rows: list[dict[str, Any]]) -> NewDataBatch:
        """The poll's one row as a batch."""
        row = rows[0] if rows else {}
        return NewDataBatch(
            count=int(row.get("n") or 0),
            newest_created_at=_when(row.get("newest_created_at"), "newest_created_at"),
            newest_timestamp=_when(row.get("newest_timestamp"), "newest_timestamp"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form, for the trigger's kwargs."""
        return {
            "table": self.table,
            "where": self.where,
            "settle_seconds": self.settle.total_seconds(),
            "lookback_seconds": self.lookback.total_seconds(),
            "environment": list(self.environment) if self.environment is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NewDataWatch:
        return cls(
            table=data["table"],
            where=data["where"],
            settle=timedelta(seconds=data["settle_seconds"]),
            lookback=timedelta(seconds=data["lookback_seconds"]),
            environment=tuple(data["environment"]) if data.get("environment") is not None else None,
        )


def _when(value: Any, name: str) -> datetime | None:
    return None if value is None else parse_timestamp(value, name=name)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")
