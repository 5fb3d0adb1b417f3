"""The local server's database: DuckDB holding `records` and `metrics`, queried like Logfire.

Every request gets its own DuckDB cursor (its own connection to the one database) and, in it,
temporary views `records`, `records_all` and `metrics` that show only the request's time window
and deployment environments. The user's SQL therefore reads "the table" and sees exactly the
rows Logfire would give it, while the stored tables live apart in `STORE_SCHEMA` (a temporary
view cannot share a name with the table it reads in the same schema).

The window is half-open: `min_timestamp <= t < max_timestamp`, on `records.start_timestamp` and
`metrics.recorded_timestamp`. Logfire does not document its bounds; a half-open window is the
one that lets a client split a range into pieces without losing or doubling a row.

SQL sent by clients can touch neither files nor the network: the database runs with
`enable_external_access = false`, which DuckDB refuses to turn back on while it runs. The
configuration is not locked as a whole (`lock_configuration`), because the v2 `timezone`
parameter needs a per-request `SET TimeZone`; the SQL guard refuses every `SET` from clients.
Loading goes through this class (Arrow in Python, never DuckDB's file readers).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from airflow_provider_logfire.local.loading import read_parquet
from airflow_provider_logfire.local.sql_guard import SqlRefusedError, check_select
from airflow_provider_logfire.local.tables import (
    STORE_SCHEMA,
    TABLES,
    Table,
    create_table_sql,
    create_tables,
)

if TYPE_CHECKING:
    import os

DEFAULT_QUERY_TIMEOUT = 30.0
#: Rows per Arrow batch handed to the encoders: big enough to amortise Python overhead, small
#: enough that the first bytes of a 10,000-row answer leave early.
BATCH_ROWS = 4096
#: File name of the database inside `--data-dir`.
DATABASE_FILE = "logfire-local.duckdb"


class LocalQueryError(Exception):
    """The query failed (HTTP 400): refused by the guard, invalid SQL, or a runtime error."""


class QueryTimeoutError(LocalQueryError):
    """The query ran longer than the engine's `query_timeout` and was interrupted."""


class InvalidParameterError(ValueError):
    """A request parameter has a value the engine cannot use (HTTP 422); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LoadError(ValueError):
    """Data cannot be loaded into a table as given (unknown table or column, missing time column)."""


class QueryResult:
    """An open query: its Arrow schema, then its record batches, pulled one by one.

    The first batch is fetched when the result is created, so an error in the query surfaces
    before any HTTP header is sent. `close()` must be called (it is idempotent and safe from any
    thread): it cancels the time budget, interrupts a fetch still running and frees the cursor.
    """

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        relation: duckdb.DuckDBPyRelation,
        *,
        timeout: float,
        plan: str | None = None,
    ) -> None:
        self.plan = plan
        self._cursor = cursor
        self._timeout = timeout
        self._timed_out = False
        self._closed = False
        self._fetch_lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._interrupt_for_timeout)
        self._timer.daemon = True
        self._timer.start()
        try:
            self._reader = self._guarded(lambda: relation.to_arrow_reader(BATCH_ROWS))
            self.schema = _output_schema(self._reader.schema)
            self._pending: pa.RecordBatch | None = self._fetch()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while (batch := self._take_next()) is not None:
            yield batch

    def __enter__(self) -> QueryResult:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the query (if still running) and release its cursor."""
        self._timer.cancel()
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(duckdb.Error):
            self._cursor.interrupt()  # lets a fetch running in another thread give up the lock
        with self._fetch_lock:
            self._cursor.close()

    def _take_next(self) -> pa.RecordBatch | None:
        if self._pending is not None:
            batch, self._pending = self._pending, None
            return batch
        return self._fetch()

    def _fetch(self) -> pa.RecordBatch | None:
        with self._fetch_lock:
            if self._closed:
                raise LocalQueryError("The query was cancelled")
            try:
                batch = self._guarded(self._reader.read_next_batch)
            except StopIteration:
                self._timer.cancel()
                return None
        if batch.schema != self.schema:
            batch = batch.cast(self.schema)
        return batch

    def _guarded(self, step: Any) -> Any:
        """Run one DuckDB step, turning its failures into LocalQueryError with DuckDB's message."""
        try:
            return step()
        except StopIteration:
            raise
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            if self._timed_out:
                raise QueryTimeoutError(
                    f"The query ran longer than the {self._timeout:g} s time limit and was cancelled"
                ) from None
            if self._closed:
                raise LocalQueryError("The query was cancelled") from None
            raise LocalQueryError(str(exc)) from None

    def _interrupt_for_timeout(self) -> None:
        self._timed_out = True
        with contextlib.suppress(duckdb.Error):  # the query may have ended in the meantime
            self._cursor.interrupt()


class LocalEngine:
    """DuckDB with Logfire's tables, safe to query from many threads at once."""

    def __init__(
        self,
        database: str | os.PathLike[str] = ":memory:",
        *,
        query_timeout: float = DEFAULT_QUERY_TIMEOUT,
    ) -> None:
        self.database = str(database)
        self.query_timeout = query_timeout
        self._con = duckdb.connect(self.database)
        self._cursor_lock = threading.Lock()
        self._load_lock = threading.RLock()
        try:
            self._con.execute("SET TimeZone = 'UTC'")
            create_tables(self._con)
            _forbid_external_access(self._con)
        except BaseException:
            self._con.close()
            raise

    @classmethod
    def in_directory(cls, data_dir: str | os.PathLike[str], **kwargs: Any) -> LocalEngine:
        """An engine whose data persists in `data_dir` (created if needed) across restarts."""
        directory = Path(data_dir).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory / DATABASE_FILE, **kwargs)

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalEngine(database={self.database!r})"

    def close(self) -> None:
        """Close the database (a file database is checkpointed by DuckDB on close)."""
        self._con.close()

    # -- queries ---------------------------------------------------------------------------

    def query(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int = 500,
        timezone: str | None = None,
        environments: Sequence[str] | None = None,
        explain: bool = False,
    ) -> QueryResult:
        """Start `sql` over the window [min_timestamp, max_timestamp); at most `limit` rows.

        Naive datetimes are UTC. `environments` keeps rows whose `deployment_environment` is one
        of the names, `""` standing for "no environment" (NULL or empty); None or an empty list
        means no filter. `timezone` is the session time zone of this query only. With `explain`,
        the result's `plan` holds DuckDB's plan as text.

        Raises LocalQueryError (refused or failing SQL) or InvalidParameterError (bad timezone).
        """
        try:
            check_select(sql)
        except SqlRefusedError as exc:
            raise LocalQueryError(str(exc)) from None
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            if timezone is not None:
                _set_time_zone(cursor, timezone)
            _create_window_views(cursor, min_timestamp, max_timestamp, environments)
            try:
                relation = cursor.sql(sql).limit(limit)
                plan = relation.explain() if explain else None
            except duckdb.Error as exc:
                raise LocalQueryError(str(exc)) from None
            return QueryResult(cursor, relation, timeout=self.query_timeout, plan=plan)
        except BaseException:
            cursor.close()
            raise

    # -- loading ---------------------------------------------------------------------------

    def insert_arrow(
        self, table_name: str, data: pa.Table | pa.RecordBatchReader, *, keep_sorted: bool = True
    ) -> int:
        """Append rows to a table and return how many were added.

        `data` may hold any subset of the table's columns: a missing nullable column is NULL,
        `day` comes from the time column, `created_at` is the load time, `project_id` is
        "local", `end_timestamp` equals `start_timestamp`; other required columns get a neutral
        default (see `_DEFAULTS`) except the identity ones, which must be given. Values are cast
        to the column types. Rows are kept ordered by the time column, so DuckDB's zone maps
        skip whatever lies outside a query's window.

        `keep_sorted=False` skips that re-sort, for frequent small appends such as OTLP ingest:
        a span arrives when it ends, so nearly every batch starts a little before the last, and
        rewriting the whole table each time would make every request cost the table's size.
        Such rows are nearly in time order anyway; the next sorted load puts them in place.
        """
        table = _table(table_name)
        select_list = _load_select_list(table, data.schema.names)
        with self._load_lock:
            with self._cursor_lock:  # as in `query`: inserts now run while queries start
                cursor = self._con.cursor()
            try:
                cursor.register("_incoming", data)
                cursor.execute(
                    f"INSERT INTO {_stored(table)} SELECT {select_list} FROM _incoming "
                    f'ORDER BY "{table.time_column}"'
                )
                (inserted,) = cursor.fetchone() or (0,)
            except duckdb.Error as exc:
                raise LoadError(f"Cannot load rows into {table.name}: {exc}") from None
            finally:
                cursor.close()
            if keep_sorted:
                self._keep_sorted(table)
        return int(inserted)

    def load_parquet(self, table_name: str, path_or_glob: str | os.PathLike[str]) -> int:
        """Load every Parquet file matching a path, directory or glob; return the row count."""
        return self.insert_arrow(table_name, read_parquet(path_or_glob))

    def load_demo(
        self,
        *,
        days: int,
        rows_per_day: int,
        seed: int = 0,
        end: datetime | None = None,
        project_id: str = "local",
    ) -> Any:
        """Generate demo telemetry (see `local.demo.generate_demo`) and return its summary."""
        from airflow_provider_logfire.local.demo import generate_demo

        with self._load_lock:
            summary = generate_demo(
                self._con, days=days, rows_per_day=rows_per_day, seed=seed, end=end, project_id=project_id
            )
            for table in TABLES.values():
                self._keep_sorted(table)
        return summary

    def clear(self) -> None:
        """Delete every stored row of both tables."""
        with self._load_lock:
            for table in TABLES.values():
                self._con.execute(f"DELETE FROM {_stored(table)}")

    def count(self, table_name: str) -> int:
        """Number of stored rows in a table (ignoring any window)."""
        table = _table(table_name)
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            (rows,) = cursor.execute(f"SELECT count(*) FROM {_stored(table)}").fetchone() or (0,)
        finally:
            cursor.close()
        return int(rows)

    def _keep_sorted(self, table: Table) -> None:
        """Rewrite a table in time order if a load left it out of order.

        Physical order is what makes the window filter cheap: with rows sorted, each row group's
        min/max statistics cover a short span and DuckDB skips the groups outside the window.
        """
        time = f'"{table.time_column}"'
        (unsorted,) = self._con.execute(
            f"SELECT count(*) FROM (SELECT {time} < lag({time}) OVER (ORDER BY rowid) AS back "
            f"FROM {_stored(table)}) WHERE back"
        ).fetchone() or (0,)
        if not unsorted:
            return
        scratch = dataclasses.replace(table, name=f"{table.name}__sorting")
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.execute(create_table_sql(scratch))
            self._con.execute(
                f"INSERT INTO {_stored(scratch)} SELECT * FROM {_stored(table)} ORDER BY {time}"
            )
            self._con.execute(f"DROP TABLE {_stored(table)}")
            self._con.execute(f"ALTER TABLE {_stored(scratch)} RENAME TO {table.name}")
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise


# -- helpers -------------------------------------------------------------------------------


def _forbid_external_access(con: duckdb.DuckDBPyConnection) -> None:
    """Make SQL unable to read or write files, fetch URLs, or install and load extensions."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")


def _table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise LoadError(f"Unknown table {name!r}; expected one of {', '.join(TABLES)}") from None


def _stored(table: Table) -> str:
    return f"{STORE_SCHEMA}.{table.name}"


def _sql_string(value: str) -> str:
    """A SQL string literal (standard quoting: a quote is doubled, nothing else is special)."""
    return "'" + value.replace("'", "''") + "'"


def _sql_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return f"TIMESTAMPTZ {_sql_string(value.astimezone(timezone.utc).isoformat())}"


def _set_time_zone(cursor: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        cursor.execute(f"SET TimeZone = {_sql_string(name)}")
    except duckdb.Error:
        raise InvalidParameterError("timezone", f"Unknown time zone {name!r}") from None


def _create_window_views(
    cursor: duckdb.DuckDBPyConnection,
    min_timestamp: datetime | None,
    max_timestamp: datetime | None,
    environments: Sequence[str] | None,
) -> None:
    for table in TABLES.values():
        time = f'"{table.time_column}"'
        conditions = []
        if min_timestamp is not None:
            conditions.append(f"{time} >= {_sql_timestamp(min_timestamp)}")
        if max_timestamp is not None:
            conditions.append(f"{time} < {_sql_timestamp(max_timestamp)}")
        if environments:
            conditions.append(_environment_condition(environments))
        where = " AND ".join(conditions) or "true"
        cursor.execute(f"CREATE TEMP VIEW {table.name} AS SELECT * FROM {_stored(table)} WHERE {where}")
    # Logfire's `records_all` adds pending spans to `records`; the local store never has any.
    cursor.execute("CREATE TEMP VIEW records_all AS SELECT * FROM records")


def _environment_condition(environments: Sequence[str]) -> str:
    names = sorted({name for name in environments if name})
    parts = []
    if names:
        parts.append(f"deployment_environment IN ({', '.join(_sql_string(n) for n in names)})")
    if "" in environments:
        parts.append("deployment_environment IS NULL OR deployment_environment = ''")
    return "(" + " OR ".join(parts) + ")"


def _output_schema(schema: pa.Schema) -> pa.Schema:
    """The schema results leave with: Logfire's Arrow conventions, whatever DuckDB produced.

    Timestamps with a zone are UTC (the session zone changes how SQL computes, not what an
    instant is), list items are named `item`, dictionaries (DuckDB ENUMs) are plain values,
    and no DuckDB extension metadata (e.g. JSON) rides along: JSON is text.
    """
    return pa.schema([pa.field(f.name, _output_type(f.type), f.nullable) for f in schema])


def _output_type(data_type: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(data_type) and data_type.tz is not None:
        return pa.timestamp(data_type.unit, "UTC")
    if pa.types.is_dictionary(data_type):
        return _output_type(data_type.value_type)
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        item = data_type.value_field
        item_field = pa.field("item", _output_type(item.type), item.nullable)
        return pa.list_(item_field) if pa.types.is_list(data_type) else pa.large_list(item_field)
    if pa.types.is_fixed_size_list(data_type):
        item = data_type.value_field
        return pa.list_(pa.field("item", _output_type(item.type), item.nullable), data_type.list_size)
    if pa.types.is_struct(data_type):
        return pa.struct([pa.field(f.name, _output_type(f.type), f.nullable) for f in data_type])
    return data_type


def _default_for(name: str, given: dict[str, str], time: str) -> str | None:
    """SQL for a required column a load left out (or left NULL); None if there is none.

    `given` maps the loaded columns to their (cast) SQL expressions; `time` is the expression of
    the table's time column.
    """
    if name == "end_timestamp":
        return given["start_timestamp"]
    if name == "kind":
        end = given.get("end_timestamp")
        return f"CASE WHEN {end} > {given['start_timestamp']} THEN 'span' ELSE 'log' END" if end else "'log'"
    if name in ("span_name", "message"):
        other = given.get("message" if name == "span_name" else "span_name")
        return f"coalesce({other}, '')" if other else "''"
    if name == "day":
        return f"CAST(timezone('UTC', {time}) AS DATE)"
    return _CONSTANT_DEFAULTS.get(name)


_CONSTANT_DEFAULTS = {
    "created_at": "CAST(now() AS TIMESTAMPTZ)",
    "project_id": "'local'",
    "trace_id": "replace(CAST(uuid() AS VARCHAR), '-', '')",
    "span_id": "left(replace(CAST(uuid() AS VARCHAR), '-', ''), 16)",
    "level": "9",
    "service_name": "'unknown_service'",
    "metric_type": "'gauge'",
    "unit": "''",
}


def _load_select_list(table: Table, names: Sequence[str]) -> str:
    """The SELECT list that turns incoming columns (any subset) into a full row of `table`."""
    known = set(table.column_names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise LoadError(
            f"Unknown column(s) for table {table.name}: {', '.join(unknown)}. "
            f"Known columns: {', '.join(table.column_names)}"
        )
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise LoadError(f"Duplicate column(s) for table {table.name}: {', '.join(duplicates)}")
    if table.time_column not in names:
        raise LoadError(
            f"Cannot load rows into {table.name}: the time column {table.time_column!r} is missing"
        )

    given = {c.name: f'CAST("{c.name}" AS {c.duckdb_type})' for c in table.columns if c.name in names}
    time = given[table.time_column]
    expressions = []
    for column in table.columns:
        expr = given.get(column.name)
        default = None if column.nullable else _default_for(column.name, given, time)
        if expr is None and default is None:
            if not column.nullable:
                raise LoadError(
                    f"Cannot load rows into {table.name}: the required column {column.name!r} is missing"
                )
            expr = f"CAST(NULL AS {column.duckdb_type})"
        elif expr is None:
            expr = default
        elif default is not None and default != expr:
            expr = f"coalesce({expr}, {default})"
        expressions.append(f'{expr} AS "{column.name}"')
    return ", ".join(expressions)
