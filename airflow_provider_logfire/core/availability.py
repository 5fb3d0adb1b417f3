"""Has the data for a window landed? The question the sensor and its trigger both ask.

Airflow-free, so the sync sensor (poke) and the async trigger send the same query and read the
answer the same way. Three kinds of check:
- rows: at least `min_rows` rows whose time column is in the window (optionally `where`-filtered);
- custom SQL: a query returning one value, satisfied when it is truthy;
- watermark: ingestion has moved past the window end: some row was inserted (`created_at`) at or
  after `window end + settle`, so late spans for the window have had time to arrive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_logfire.core.planning import BOUND_PADDING, quote_identifier, timestamp_literal
from airflow_provider_logfire.core.window_sql import WINDOWED_TABLES as TIME_COLUMNS
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.exceptions import LogfireConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AvailabilityQuery:
    sql: str
    min_timestamp: datetime
    max_timestamp: datetime | None
    environment: tuple[str, ...] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the clients' `query_json_rows` (one row is all a check reads)."""
        return {
            "min_timestamp": self.min_timestamp,
            "max_timestamp": self.max_timestamp,
            "environment": self.environment,
            "limit": 1,
        }


@dataclass(frozen=True)
class AvailabilityCheck:
    """One availability question about `window`; see the module docstring for the three kinds."""

    window: TimeWindow
    table: str = "records"
    where: str | None = None
    sql: str | None = None
    min_rows: int = 1
    watermark: bool = False
    settle: timedelta = timedelta(0)
    environment: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.table):
            raise LogfireConfigError(
                f"table must be a plain table name such as 'records' or 'metrics', got {self.table!r}"
            )
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int) or self.min_rows < 1:
            raise LogfireConfigError(f"min_rows must be a positive integer, got {self.min_rows!r}")
        if self.sql and (self.where or self.watermark):
            raise LogfireConfigError("give either sql, or where/watermark: a custom sql is the whole check")
        if self.settle < timedelta(0):
            raise LogfireConfigError(f"settle must not be negative, got {self.settle}")

    @property
    def time_column(self) -> str:
        return TIME_COLUMNS.get(self.table, "start_timestamp")

    def query(self) -> AvailabilityQuery:
        """The SQL and API bounds to send."""
        if self.sql:
            return AvailabilityQuery(self.sql, self.window.start, self.window.end, self.environment)
        table = quote_identifier(self.table)
        if self.watermark:
            mark = timestamp_literal(self.window.end + self.settle)
            sql = f"SELECT count(*) AS n FROM {table} WHERE created_at >= {mark}"
            if self.where:
                sql += f" AND ({self.where})"
            # Rows inserted after the mark started after the window's start at the earliest.
            return AvailabilityQuery(sql, self.window.start - BOUND_PADDING, None, self.environment)
        column = quote_identifier(self.time_column)
        sql = (
            f"SELECT count(*) AS n FROM {table} "
            f"WHERE {column} >= {timestamp_literal(self.window.start)} "
            f"AND {column} < {timestamp_literal(self.window.end)}"
        )
        if self.where:
            sql += f" AND ({self.where})"
        return AvailabilityQuery(
            sql, self.window.start - BOUND_PADDING, self.window.end + BOUND_PADDING, self.environment
        )

    def evaluate(self, rows: list[dict[str, Any]]) -> tuple[bool, str]:
        """Whether the answer satisfies the check, and a sentence for the task log."""
        first = next(iter(rows[0].values()), None) if rows else None
        if self.sql:
            return bool(first), f"custom check returned {first!r}"
        count = int(first or 0)
        if self.watermark:
            mark = self.window.end + self.settle
            if count:
                return (
                    True,
                    f"{count:,} row(s) ingested at or after {mark.isoformat()}: the window has settled",
                )
            return False, f"no row ingested at or after {mark.isoformat()} yet"
        return count >= self.min_rows, f"{count:,} row(s) in {self.window} (need {self.min_rows:,})"

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form, for the trigger's kwargs."""
        return {
            "start": self.window.start.isoformat(),
            "end": self.window.end.isoformat(),
            "table": self.table,
            "where": self.where,
            "sql": self.sql,
            "min_rows": self.min_rows,
            "watermark": self.watermark,
            "settle_seconds": self.settle.total_seconds(),
            "environment": list(self.environment) if self.environment is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AvailabilityCheck:
        return cls(
            window=TimeWindow(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])),
            table=data["table"],
            where=data["where"],
            sql=data["sql"],
            min_rows=data["min_rows"],
            watermark=data["watermark"],
            settle=timedelta(seconds=data["settle_seconds"]),
            environment=tuple(data["environment"]) if data.get("environment") is not None else None,
        )
