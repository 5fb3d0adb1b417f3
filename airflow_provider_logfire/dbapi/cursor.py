"""The PEP 249 cursor: one query per `execute`, its whole result (at most 10,000 rows) held as Arrow.

Rows are converted to Python as they are fetched, so values have real Python types (aware UTC
datetimes, lists, bools, ints, floats, `Decimal`); JSON columns such as `attributes` stay text.
Python datetimes hold microseconds, so nanosecond timestamps are truncated to microseconds.

The API has no truncation flag, so a result with exactly `limit` rows may have been cut:
`execute` then emits `TruncatedResultWarning` through `warnings.warn`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_logfire.dbapi.exceptions import (
    InterfaceError,
    ProgrammingError,
    TruncatedResultWarning,
    translated_errors,
)
from airflow_provider_logfire.dbapi.parameters import Parameters, render_query
from airflow_provider_logfire.dbapi.window import (
    INHERIT,
    TimeBound,
    checked_bound,
    checked_limit,
    resolved_bound,
)

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa

    from airflow_provider_logfire.client.sync import LogfireClient


class CursorOwner(Protocol):
    """What a cursor needs of the `Connection` that creates it (named here, so the two modules
    do not import each other)."""

    @property
    def client(self) -> LogfireClient: ...

    @property
    def min_timestamp(self) -> datetime | None: ...

    @property
    def max_timestamp(self) -> datetime | None: ...

    @property
    def limit(self) -> int: ...

    def _check_open(self) -> None: ...


class Cursor:
    """A PEP 249 cursor: runs one query per `execute` and holds its whole result (≤ 10,000 rows).

    `min_timestamp`, `max_timestamp` and `limit` follow the connection until set on the cursor;
    `del cursor.limit` (etc.) makes it follow again.
    """

    def __init__(self, connection: CursorOwner) -> None:
        self._connection = connection
        self._closed = False
        self._min_bound: TimeBound = INHERIT
        self._max_bound: TimeBound = INHERIT
        self._limit: int = INHERIT
        self.arraysize = 1
        self._clear_result()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    # -- per-cursor window -------------------------------------------------------------------------

    @property
    def min_timestamp(self) -> datetime | None:
        if self._min_bound is INHERIT:
            return self._connection.min_timestamp
        return resolved_bound(self._min_bound)

    @min_timestamp.setter
    def min_timestamp(self, value: TimeBound) -> None:
        self._min_bound = checked_bound(value, "min_timestamp")

    @min_timestamp.deleter
    def min_timestamp(self) -> None:
        self._min_bound = INHERIT

    @property
    def max_timestamp(self) -> datetime | None:
        if self._max_bound is INHERIT:
            return self._connection.max_timestamp
        return resolved_bound(self._max_bound)

    @max_timestamp.setter
    def max_timestamp(self, value: TimeBound) -> None:
        self._max_bound = checked_bound(value, "max_timestamp")

    @max_timestamp.deleter
    def max_timestamp(self) -> None:
        self._max_bound = INHERIT

    @property
    def limit(self) -> int:
        return self._connection.limit if self._limit is INHERIT else self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = checked_limit(value)

    @limit.deleter
    def limit(self) -> None:
        self._limit = INHERIT

    # -- PEP 249 attributes ------------------------------------------------------------------------

    @property
    def connection(self) -> CursorOwner:
        return self._connection

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        """Per column: (name, type_code, None, None, precision, scale, null_ok).

        `type_code` is the column's `pyarrow.DataType`; compare it with STRING, NUMBER,
        DATETIME or BINARY. Booleans, lists and structs belong to none of them.
        """
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows in the last result; -1 before any query (or after one that failed)."""
        return self._rowcount

    @property
    def closed(self) -> bool:
        return self._closed

    # -- PEP 249 methods ---------------------------------------------------------------------------

    def execute(self, operation: str, parameters: Parameters | None = None) -> Cursor:
        """Run one query; with `parameters`, placeholders are rendered first (see `render_query`).

        Returns the cursor, so that `cursor.execute(sql).fetchall()` reads naturally.
        """
        return self._execute(operation, parameters, stacklevel=3)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Parameters]) -> Cursor:
        """Run the query once per parameter set; the last result stays fetchable."""
        for parameters in seq_of_parameters:
            self._execute(operation, parameters, stacklevel=3)
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._take(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return self._take(self.arraysize if size is None else max(size, 0))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._take(None)

    def fetch_arrow_table(self) -> pa.Table:
        """The rows not fetched yet as a `pyarrow.Table` with the result's own types (an extension)."""
        table = self._result_table()
        rest = table.slice(self._position)
        self._position = table.num_rows
        return rest

    def close(self) -> None:
        """Drop the result; calling it again does nothing."""
        self._closed = True
        self._clear_result()

    def setinputsizes(self, sizes: Any) -> None:
        """Does nothing: parameters are rendered as literals."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """Does nothing: results arrive whole."""

    # -- internals ---------------------------------------------------------------------------------

    def _execute(self, operation: str, parameters: Parameters | None, *, stacklevel: int) -> Cursor:
        self._check_open()
        if not isinstance(operation, str):
            raise ProgrammingError(f"The query must be a str, not {type(operation).__name__}")
        sql = operation if parameters is None else render_query(operation, parameters)
        if not sql.strip():
            raise ProgrammingError("The query is empty: give a SELECT over `records` or `metrics`")
        self._clear_result()
        limit = self.limit
        with translated_errors():
            table = self._connection.client.query_arrow(
                sql, min_timestamp=self.min_timestamp, max_timestamp=self.max_timestamp, limit=limit
            )
        self._table = table
        self._python_table = _microsecond_times(table)
        self._description = _describe(table.schema)
        self._rowcount = table.num_rows
        if table.num_rows >= limit:
            warnings.warn(
                f"The query returned {table.num_rows:,} rows, which is its limit: the result may be "
                "truncated. Narrow the time window (min_timestamp/max_timestamp) or aggregate in SQL; "
                "to export everything, use LogfireToFileTransfer, which splits the window.",
                TruncatedResultWarning,
                stacklevel=stacklevel,
            )
        return self

    def _clear_result(self) -> None:
        self._table: pa.Table | None = None
        self._python_table: pa.Table | None = None
        self._description: list[tuple[Any, ...]] | None = None
        self._rowcount = -1
        self._position = 0

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("The cursor is closed")
        self._connection._check_open()

    def _result_table(self) -> pa.Table:
        self._check_open()
        if self._table is None:
            raise ProgrammingError("No result to fetch: call execute() first")
        return self._table

    def _take(self, count: int | None) -> list[tuple[Any, ...]]:
        """Up to `count` (None: all) of the rows not fetched yet, as tuples."""
        self._result_table()
        table = self._python_table
        assert table is not None
        start = self._position
        stop = table.num_rows if count is None else min(table.num_rows, start + count)
        self._position = stop
        return _rows(table.slice(start, stop - start))


def _describe(schema: pa.Schema) -> list[tuple[Any, ...]]:
    import pyarrow.types

    description = []
    for field in schema:
        precision = scale = None
        if pyarrow.types.is_decimal(field.type):
            precision, scale = field.type.precision, field.type.scale
        description.append((field.name, field.type, None, None, precision, scale, field.nullable))
    return description


def _microsecond_times(table: pa.Table) -> pa.Table:
    """The table with nanosecond times cast to microseconds, which is what Python's types hold.

    Without this, pyarrow would hand out `pandas.Timestamp` objects (or fail without pandas).
    """
    import pyarrow as pa
    import pyarrow.types

    columns = []
    changed = False
    for column in table.columns:
        kind = column.type
        target = None
        if getattr(kind, "unit", None) == "ns":
            if pyarrow.types.is_timestamp(kind):
                target = pa.timestamp("us", kind.tz)
            elif pyarrow.types.is_time64(kind):
                target = pa.time64("us")
            elif pyarrow.types.is_duration(kind):
                target = pa.duration("us")
        if target is not None:
            column = column.cast(target, safe=False)
            changed = True
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names) if changed else table


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    if table.num_columns == 0:
        return [()] * table.num_rows
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))
