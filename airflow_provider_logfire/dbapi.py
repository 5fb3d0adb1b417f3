"""A PEP 249 (DB-API 2.0) interface to Logfire SQL, for tools that speak DB-API.

    from airflow_provider_logfire import dbapi

    with dbapi.connect(read_token="pylf_v1_eu_...") as conn:          # or conn_id="logfire_default"
        cur = conn.cursor()
        cur.execute("SELECT message FROM records WHERE level >= %(level)s", {"level": 17})
        rows = cur.fetchall()

    pandas.read_sql("SELECT ...", conn)   # works; pandas warns that it only tests SQLAlchemy/sqlite3

What differs from a database driver, and why:

- Every query is one HTTP request over a time window: `min_timestamp` (default: one day before
  each query; a `timedelta` always means "that long before now", evaluated per query, so a
  long-lived connection keeps reading the recent past) and `max_timestamp` (default: none).
  Both, and the row `limit` (default and maximum 10,000), are attributes of the connection
  that each cursor inherits and may override.
- The API has no truncation flag, so a result with exactly `limit` rows may have been cut:
  `execute` then emits `TruncatedResultWarning` through `warnings.warn`. Its base is this
  module's `Warning`, which subclasses `UserWarning` (and so `Exception`, as PEP 249 asks), so
  the usual filters apply: `warnings.simplefilter("ignore", dbapi.TruncatedResultWarning)`.
- Results arrive as Arrow and rows are converted as they are fetched, so values have real
  Python types (aware UTC datetimes, lists, bools, ints, floats, `Decimal`); JSON columns such
  as `attributes` stay text. Python datetimes hold microseconds, so nanosecond timestamps are
  truncated to microseconds.
- The API is read-only: `commit()` does nothing and `rollback()` raises `NotSupportedError`.
- Parameters (`%(name)s` or `%s`) are rendered into the SQL on the client, since the API takes
  no bind parameters: see `render_query`. The service (DataFusion) and the local server
  (DuckDB) read standard SQL strings, in which only the quote is special, so doubling quotes
  is a complete escape and a backslash is an ordinary character. A placeholder must stand
  alone: one written inside quotes or glued to a word (`E%s`) is refused rather than guessed at.

Importing this module imports neither Airflow nor pyarrow; `connect(conn_id=...)` imports Airflow.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire.client.settings import MAX_LIMIT, ClientSettings, parse_environments
from airflow_provider_logfire.exceptions import (
    LogfireAPIError,
    LogfireBadRequestError,
    LogfireConfigError,
    LogfireDecodeError,
    LogfireError,
    LogfireQueryError,
    LogfireTransportError,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_logfire.client.sync import LogfireClient

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "TruncatedResultWarning",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "render_query",
    "sql_literal",
    "threadsafety",
]

apilevel = "2.0"
#: Threads may share the module, not connections: a cursor keeps its result between calls.
threadsafety = 1
#: `%(name)s`; positional `%s` (the "format" style) is accepted too.
paramstyle = "pyformat"

DEFAULT_LIMIT = MAX_LIMIT
DEFAULT_MIN_AGE = timedelta(days=1)

#: A time bound as users give it: an instant, an age ("that long before now"), or no bound.
TimeBound = datetime | timedelta | None
Parameters = Mapping[str, Any] | Sequence[Any]


# ---------------------------------------------------------------------------------------------
# Exceptions (PEP 249's hierarchy) and the mapping from the client's errors
# ---------------------------------------------------------------------------------------------


class Warning(UserWarning):
    """PEP 249's Warning; a `UserWarning` so that it can be issued and filtered with `warnings`."""


class TruncatedResultWarning(Warning):
    """A query returned exactly `limit` rows, so more may exist (the API has no truncation flag)."""


class Error(Exception):
    """Base class of every error this module raises."""


class InterfaceError(Error):
    """Misuse of the interface or its configuration: closed objects, missing token, bad options."""


class DatabaseError(Error):
    """An error reported by, or while talking to, the Logfire query API."""


class DataError(DatabaseError):
    """A parameter cannot be written in Logfire SQL (NUL character, unpaired surrogate, NaN, infinity)."""


class OperationalError(DatabaseError):
    """The query could not run: token refused, rate limit, service or network failure."""


class IntegrityError(DatabaseError):
    """Part of PEP 249; never raised by a read-only API."""


class InternalError(DatabaseError):
    """Part of PEP 249; never raised here (service failures are `OperationalError`)."""


class ProgrammingError(DatabaseError):
    """The SQL or its parameters are wrong; a server-side failure carries the server's message."""


class NotSupportedError(DatabaseError):
    """The operation does not exist for a read-only query API (e.g. `rollback`)."""


def _dbapi_error(error: LogfireError) -> Error:
    """The PEP 249 exception that says what `error` (one of the client's) means to a DB-API user."""
    if isinstance(error, LogfireConfigError):
        return InterfaceError(str(error))
    if isinstance(error, (LogfireQueryError, LogfireBadRequestError)):
        return ProgrammingError(str(error))
    if isinstance(error, (LogfireAPIError, LogfireTransportError, LogfireDecodeError)):
        return OperationalError(str(error))
    return DatabaseError(str(error))


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except LogfireError as exc:
        raise _dbapi_error(exc) from exc


# ---------------------------------------------------------------------------------------------
# Type objects and constructors
# ---------------------------------------------------------------------------------------------


class DBAPITypeObject:
    """A PEP 249 type object: equal to each type code (a `pyarrow.DataType`) of its family."""

    def __init__(self, name: str, *predicates: str) -> None:
        self.name = name
        self._predicates = predicates  # names of `pyarrow.types` functions

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        import pyarrow as pa
        import pyarrow.types

        if not isinstance(other, pa.DataType):
            return False
        return any(
            (check := getattr(pyarrow.types, name, None)) is not None and check(other)
            for name in self._predicates
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"dbapi.{self.name}"


STRING = DBAPITypeObject("STRING", "is_string", "is_large_string", "is_string_view")
NUMBER = DBAPITypeObject("NUMBER", "is_integer", "is_floating", "is_decimal")
DATETIME = DBAPITypeObject("DATETIME", "is_temporal")
BINARY = DBAPITypeObject("BINARY", "is_binary", "is_large_binary", "is_fixed_size_binary", "is_binary_view")
#: Logfire has no row ids: no type code equals ROWID.
ROWID = DBAPITypeObject("ROWID")

Date = date
Time = time
Timestamp = datetime
Binary = bytes


def DateFromTicks(ticks: float) -> date:
    """The UTC date of a POSIX timestamp (UTC, because every time in Logfire is UTC)."""
    return datetime.fromtimestamp(ticks, timezone.utc).date()


def TimeFromTicks(ticks: float) -> time:
    """The UTC time of day of a POSIX timestamp."""
    return datetime.fromtimestamp(ticks, timezone.utc).time()


def TimestampFromTicks(ticks: float) -> datetime:
    """An aware UTC datetime: unambiguous wherever the code runs."""
    return datetime.fromtimestamp(ticks, timezone.utc)


# ---------------------------------------------------------------------------------------------
# Parameters: rendered into the SQL text as literals
# ---------------------------------------------------------------------------------------------

#: `%%`, `%(name)s`, `%s`, or a bare `%` (anything else after it), which is an error.
_PLACEHOLDER = re.compile(r"%(?:(?P<percent>%)|\((?P<name>[^()]*)\)s|(?P<positional>s))?")
#: Characters that must not touch a placeholder: a quote means the placeholder was quoted by
#: hand (`'%s'`), a word character glues the literal to a prefix such as `E` or `U&`, which
#: would change how the server reads the string.
_GLUE = frozenset("'\"`_$&")


def render_query(operation: str, parameters: Parameters) -> str:
    """`operation` with each placeholder replaced by the SQL literal of its parameter.

    A mapping goes with `%(name)s` placeholders (unused keys are fine), a sequence with `%s`
    (one value each). `%%` is a literal `%`; any other `%` is an error, as in other `pyformat`
    drivers. Placeholders stand alone (`WHERE x = %(v)s`, never `'%(v)s'`): the value is quoted
    here. The SQL is not parsed, so a placeholder inside a comment is still one.
    """
    if isinstance(parameters, (str, bytes, bytearray, memoryview)) or not isinstance(
        parameters, (Mapping, Sequence)
    ):
        raise ProgrammingError(
            "parameters must be a mapping (for %(name)s) or a sequence such as a tuple (for %s), "
            f"not {type(parameters).__name__}"
        )
    matches = list(_PLACEHOLDER.finditer(operation))
    named = [m for m in matches if m["name"] is not None]
    positional = [m for m in matches if m["positional"]]
    for match in matches:
        if not (match["percent"] or match["name"] is not None or match["positional"]):
            raise ProgrammingError(
                f"Unsupported '%' at position {match.start()} ({_excerpt(operation, match.start())!r}): "
                "with parameters, write %% for a literal percent sign and %(name)s or %s for a value"
            )
    if named and positional:
        raise ProgrammingError("The query mixes %(name)s and %s placeholders; use one style")
    if isinstance(parameters, Mapping):
        if positional:
            raise ProgrammingError(
                "The query uses %s placeholders but parameters is a mapping: "
                "use %(name)s placeholders, or pass a sequence"
            )
        missing = sorted({m["name"] for m in named} - set(parameters))
        if missing:
            raise ProgrammingError(f"No value given for parameter(s) {', '.join(map(repr, missing))}")
    else:
        if named:
            raise ProgrammingError(
                "The query uses %(name)s placeholders but parameters is a sequence: pass a mapping"
            )
        if len(positional) != len(parameters):
            raise ProgrammingError(
                f"The query has {len(positional)} %s placeholder(s) but {len(parameters)} "
                "parameter(s) were given"
            )

    pieces: list[str] = []
    end = 0
    values = iter(parameters) if not isinstance(parameters, Mapping) else None
    for match in matches:
        pieces.append(operation[end : match.start()])
        end = match.end()
        if match["percent"]:
            pieces.append("%")
            continue
        _check_stands_alone(operation, match)
        value = parameters[match["name"]] if values is None else next(values)  # type: ignore[index]
        pieces.append(sql_literal(value))
    pieces.append(operation[end:])
    return "".join(pieces)


def _check_stands_alone(operation: str, match: re.Match[str]) -> None:
    before = operation[match.start() - 1] if match.start() > 0 else " "
    after = operation[match.end()] if match.end() < len(operation) else " "
    if before in _GLUE or before.isalnum() or after in _GLUE or after.isalnum():
        raise ProgrammingError(
            f"The placeholder {match.group()} at position {match.start()} "
            f"({_excerpt(operation, match.start())!r}) touches a quote or a word: write it on its own, "
            "as in `WHERE message = %(m)s`, and do not quote it (its value is quoted for you)"
        )


def _excerpt(text: str, position: int, width: int = 20) -> str:
    return text[max(0, position - width) : position + width]


def sql_literal(value: Any) -> str:
    """`value` as a Logfire SQL literal that the server reads back as exactly that value.

    None → NULL; bool → TRUE/FALSE; int and Decimal → numerals (negative ones in parentheses,
    so that `10-%s` cannot become a `--` comment); float → `CAST(repr AS DOUBLE)` (a bare
    `0.1` would be a decimal to some engines); str → quoted, quotes doubled; datetime →
    `TIMESTAMP '...'` in UTC (naive = UTC); date → `DATE '...'`; time → `TIME '...'`;
    list/tuple → `(a, b, c)` for `IN`. NUL characters, unpaired surrogates, NaN and infinity
    raise DataError; bytes and other types ProgrammingError.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return _signed(str(int(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DataError(f"{value} cannot be a Logfire SQL parameter: only finite numbers can")
        return _signed(format(value, "f"))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise DataError(f"{number} cannot be a Logfire SQL parameter: only finite numbers can")
        return f"CAST({number!r} AS DOUBLE)"
    if isinstance(value, str):
        return _string_literal(str.__str__(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ProgrammingError("A time of day with a time zone is ambiguous: pass a datetime instead")
        return f"TIME '{value.isoformat(timespec='microseconds')}'"
    if isinstance(value, (list, tuple)):
        if not value:
            raise ProgrammingError("An empty list cannot be a parameter: `IN ()` is not valid SQL")
        if any(isinstance(item, (list, tuple)) for item in value):
            raise ProgrammingError("A list parameter must hold single values, not nested lists")
        return "(" + ", ".join(sql_literal(item) for item in value) + ")"
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ProgrammingError(
            "bytes cannot be a parameter (engines disagree on binary literals): "
            "decode them to str, or pass their .hex()"
        )
    raise ProgrammingError(f"Unsupported parameter type {type(value).__name__}: {value!r}")


def _signed(numeral: str) -> str:
    return f"({numeral})" if numeral.startswith("-") else numeral


def _string_literal(text: str) -> str:
    if "\x00" in text:
        raise DataError("A string parameter contains a NUL character (\\x00), which SQL text cannot hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(
            "A string parameter contains an unpaired surrogate, which is not valid Unicode text"
        ) from None
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Connection settings
# ---------------------------------------------------------------------------------------------


def _checked_bound(value: object, name: str) -> TimeBound:
    if value is None or isinstance(value, (datetime, timedelta)):
        return value
    raise InterfaceError(
        f"{name} must be a datetime, a timedelta (that long before now) or None, "
        f"got {type(value).__name__} {value!r}"
    )


def _resolved(bound: TimeBound) -> datetime | None:
    """The instant a bound stands for now: an age is counted back from this moment."""
    if isinstance(bound, timedelta):
        return datetime.now(timezone.utc) - bound
    return bound


def _checked_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InterfaceError(
            f"limit must be an integer from 1 to {MAX_LIMIT:,} (the Logfire API maximum), got {value!r}"
        )
    return value


class _Unset:
    """Marks a cursor attribute that follows its connection."""

    def __repr__(self) -> str:
        return "<inherited>"


_INHERIT: Any = _Unset()


# ---------------------------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------------------------


class Connection:
    """A PEP 249 connection: one Logfire client and the query window its cursors start from."""

    def __init__(
        self,
        client: LogfireClient,
        *,
        min_timestamp: TimeBound = DEFAULT_MIN_AGE,
        max_timestamp: TimeBound = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        try:
            self._min_bound = _checked_bound(min_timestamp, "min_timestamp")
            self._max_bound = _checked_bound(max_timestamp, "max_timestamp")
            self._limit = _checked_limit(limit)
        except Error:
            client.close()
            raise
        self._client = client
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<dbapi.Connection to {self._client.base_url} ({state})>"

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the window cursors inherit ----------------------------------------------------------------

    @property
    def min_timestamp(self) -> datetime | None:
        """Lower bound of the queried time range; an age set here counts back from each query."""
        return _resolved(self._min_bound)

    @min_timestamp.setter
    def min_timestamp(self, value: TimeBound) -> None:
        self._min_bound = _checked_bound(value, "min_timestamp")

    @property
    def max_timestamp(self) -> datetime | None:
        """Upper bound of the queried time range (None: up to now)."""
        return _resolved(self._max_bound)

    @max_timestamp.setter
    def max_timestamp(self, value: TimeBound) -> None:
        self._max_bound = _checked_bound(value, "max_timestamp")

    @property
    def limit(self) -> int:
        """Maximum rows per query (the API caps it at 10,000)."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = _checked_limit(value)

    # -- PEP 249 -----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def client(self) -> LogfireClient:
        """The underlying client, for what DB-API cannot express (Arrow batches, CSV, token info)."""
        self._check_open()
        return self._client

    def cursor(self) -> Cursor:
        self._check_open()
        return Cursor(self)

    def close(self) -> None:
        """Release the HTTP connections; calling it again does nothing."""
        if not self._closed:
            self._closed = True
            self._client.close()

    def commit(self) -> None:
        """Nothing to commit: the API is read-only."""
        self._check_open()

    def rollback(self) -> None:
        self._check_open()
        raise NotSupportedError("The Logfire query API is read-only: there are no transactions to roll back")

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("The connection is closed")


# ---------------------------------------------------------------------------------------------
# Cursor
# ---------------------------------------------------------------------------------------------


class Cursor:
    """A PEP 249 cursor: runs one query per `execute` and holds its whole result (≤ 10,000 rows).

    `min_timestamp`, `max_timestamp` and `limit` follow the connection until set on the cursor;
    `del cursor.limit` (etc.) makes it follow again.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._closed = False
        self._min_bound: TimeBound = _INHERIT
        self._max_bound: TimeBound = _INHERIT
        self._limit: int = _INHERIT
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
        if self._min_bound is _INHERIT:
            return self._connection.min_timestamp
        return _resolved(self._min_bound)

    @min_timestamp.setter
    def min_timestamp(self, value: TimeBound) -> None:
        self._min_bound = _checked_bound(value, "min_timestamp")

    @min_timestamp.deleter
    def min_timestamp(self) -> None:
        self._min_bound = _INHERIT

    @property
    def max_timestamp(self) -> datetime | None:
        if self._max_bound is _INHERIT:
            return self._connection.max_timestamp
        return _resolved(self._max_bound)

    @max_timestamp.setter
    def max_timestamp(self, value: TimeBound) -> None:
        self._max_bound = _checked_bound(value, "max_timestamp")

    @max_timestamp.deleter
    def max_timestamp(self) -> None:
        self._max_bound = _INHERIT

    @property
    def limit(self) -> int:
        return self._connection.limit if self._limit is _INHERIT else self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = _checked_limit(value)

    @limit.deleter
    def limit(self) -> None:
        self._limit = _INHERIT

    # -- PEP 249 attributes ------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
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
        with _translated_errors():
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


# ---------------------------------------------------------------------------------------------
# connect()
# ---------------------------------------------------------------------------------------------

#: ClientSettings fields that connect() accepts as keyword arguments.
_CLIENT_OPTIONS = tuple(
    field.name for field in dataclasses.fields(ClientSettings) if field.name not in ("token", "base_url")
)


def connect(
    read_token: str | None = None,
    base_url: str | None = None,
    *,
    min_timestamp: TimeBound = DEFAULT_MIN_AGE,
    max_timestamp: TimeBound = None,
    limit: int = DEFAULT_LIMIT,
    conn_id: str | None = None,
    **client_settings: Any,
) -> Connection:
    """Open a connection from a read token, or from an Airflow connection with `conn_id`.

    `base_url` defaults to the token's region; `client_settings` are `ClientSettings` fields
    (`region`, `api_version`, `timeout`, `environment`, `allow_insecure_http`, `retry`) and,
    with `conn_id`, override the Airflow connection's. `min_timestamp`/`max_timestamp` accept a
    datetime, a timedelta (that long before each query) or None; `limit` is 1..10,000.
    """
    settings = _settings(read_token, base_url, conn_id, client_settings)
    # Check the window before a client (and its connection pool) exists.
    _checked_bound(min_timestamp, "min_timestamp")
    _checked_bound(max_timestamp, "max_timestamp")
    _checked_limit(limit)
    from airflow_provider_logfire.client.sync import LogfireClient

    return Connection(
        LogfireClient(settings), min_timestamp=min_timestamp, max_timestamp=max_timestamp, limit=limit
    )


def _settings(
    read_token: str | None, base_url: str | None, conn_id: str | None, options: dict[str, Any]
) -> ClientSettings:
    if read_token is not None and conn_id is not None:
        raise InterfaceError("Pass either read_token or conn_id to connect(), not both")
    if conn_id is None and not (read_token and read_token.strip()):
        raise InterfaceError(
            "connect() needs a Logfire read token (read_token='pylf_v1_...') or an Airflow "
            "connection (conn_id='logfire_default')"
        )
    unknown = sorted(set(options) - set(_CLIENT_OPTIONS))
    if unknown:
        raise InterfaceError(
            f"Unknown connect() option(s) {', '.join(unknown)}; the client options are "
            f"{', '.join(_CLIENT_OPTIONS)}"
        )
    if "environment" in options:
        options = {**options, "environment": parse_environments(options["environment"]) or ()}
    try:
        if conn_id is None:
            return ClientSettings(token=read_token or "", base_url=base_url, **options)
        settings = _airflow_settings(conn_id)
        overrides = {**options, **({"base_url": base_url} if base_url else {})}
        return dataclasses.replace(settings, **overrides) if overrides else settings
    except LogfireConfigError as exc:
        raise InterfaceError(str(exc)) from exc


def _airflow_settings(conn_id: str) -> ClientSettings:
    """Settings from an Airflow connection, through the provider's hook (imports Airflow)."""
    from airflow_provider_logfire._airflow.compat import AirflowException
    from airflow_provider_logfire.hooks.logfire import LogfireHook

    try:
        return LogfireHook(logfire_conn_id=conn_id).get_settings()
    except AirflowException as exc:
        raise InterfaceError(f"Cannot read Airflow connection {conn_id!r}: {exc}") from exc
