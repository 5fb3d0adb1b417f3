"""A PEP 249 (DB-API 2.0) interface to Logfire SQL, for tools that speak DB-API.

    from airflow_provider_logfire import dbapi

    with dbapi.connect(read_token="pylf_v1_eu_...") as conn:
        cur = conn.cursor()
        cur.execute("SELECT message FROM records WHERE level >= %(level)s", {"level": 17})
        rows = cur.fetchall()

    pandas.read_sql("SELECT ...", conn)   # works; pandas warns that it only tests SQLAlchemy/sqlite3

In Airflow, `LogfireHook(logfire_conn_id="logfire_default").get_conn()` returns the same kind of
connection, built from the Airflow connection.

What differs from a database driver, and why:

- Every query is one HTTP request over a time window: `min_timestamp` (default: one day before
  each query; a `timedelta` always means "that long before now", evaluated per query, so a
  long-lived connection keeps reading the recent past) and `max_timestamp` (default: none).
  Both, and the row `limit` (default and maximum 10,000), are attributes of the connection
  that each cursor inherits and may override (`window`).
- The API has no truncation flag, so a result with exactly `limit` rows may have been cut:
  `execute` then emits `TruncatedResultWarning` through `warnings.warn`. Its base is this
  module's `Warning`, which subclasses `UserWarning` (and so `Exception`, as PEP 249 asks), so
  the usual filters apply: `warnings.simplefilter("ignore", dbapi.TruncatedResultWarning)`.
- Results arrive as Arrow and rows are converted as they are fetched (`cursor`).
- The API is read-only: `commit()` does nothing and `rollback()` raises `NotSupportedError`.
- Parameters (`%(name)s` or `%s`) are rendered into the SQL on the client, since the API takes
  no bind parameters (`parameters`).

The package's modules follow PEP 249's sections: `exceptions`, `types` (type objects and
constructors), `parameters`, `connection` (with `connect`) and `cursor`. Importing it imports
neither Airflow nor pyarrow.
"""

from __future__ import annotations

from airflow_provider_logfire.dbapi.connection import Connection, connect
from airflow_provider_logfire.dbapi.cursor import Cursor
from airflow_provider_logfire.dbapi.exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    TruncatedResultWarning,
    Warning,
)
from airflow_provider_logfire.dbapi.parameters import Parameters as Parameters
from airflow_provider_logfire.dbapi.parameters import render_query, sql_literal
from airflow_provider_logfire.dbapi.types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)
from airflow_provider_logfire.dbapi.types import DBAPITypeObject as DBAPITypeObject

# The `name as name` imports keep importable what was importable before the split (defaults,
# type aliases, the type-object class) without adding it to `__all__`.
from airflow_provider_logfire.dbapi.window import DEFAULT_LIMIT as DEFAULT_LIMIT
from airflow_provider_logfire.dbapi.window import DEFAULT_MIN_AGE as DEFAULT_MIN_AGE
from airflow_provider_logfire.dbapi.window import TimeBound as TimeBound

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
