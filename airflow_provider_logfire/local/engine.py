"""The local server's query engine: Apache DataFusion over `records` and `metrics`, like Logfire.

Each query gets a fresh DataFusion session holding at most three tables, `records`,
`records_all` (records plus pending spans) and `metrics`, each registered as the request's window
of the stored rows (see
`store.SegmentStore.window`: a zero-copy slice of time-sorted segments) and its deployment
environments. Nothing else exists in that session: no stored table, no file or URL table, no
other request's data. So no query can read outside its window, however it is written.

The window is half-open: `min_timestamp <= t < max_timestamp`, on `records.start_timestamp` and
`metrics.recorded_timestamp`. Logfire does not document its bounds; a half-open window is the
one that lets a client split a range into pieces without losing or doubling a row.

SQL is checked (`sql_guard`), rewritten for Logfire's dialect (`dialect`) and run with
`SQLOptions` that refuse DDL, DML and statements. Each query has a time budget: when it runs out,
the thread fetching from DataFusion is interrupted (DataFusion checks for Python exceptions while
it waits for its own threads), which cancels the query.
"""

from __future__ import annotations

import ctypes
import threading
import zoneinfo
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from datafusion import SessionConfig, SessionContext, SQLOptions
from sqlglot import exp

from airflow_provider_logfire.exceptions import LocalServerError
from airflow_provider_logfire.local.dialect import rewrite
from airflow_provider_logfire.local.functions import register_functions
from airflow_provider_logfire.local.loading import LoadError, complete_rows, read_parquet
from airflow_provider_logfire.local.ordering import leading_rows, order_free_aggregation, without_stored_order
from airflow_provider_logfire.local.sql_guard import SqlRefusedError, parse_query
from airflow_provider_logfire.local.store import PENDING, SegmentStore
from airflow_provider_logfire.local.tables import RECORDS, TABLES, Table

if TYPE_CHECKING:
    import os

__all__ = [
    "InvalidParameterError",
    "LoadError",
    "LocalEngine",
    "LocalQueryError",
    "QueryResult",
    "QueryTimeoutError",
]

DEFAULT_QUERY_TIMEOUT = 30.0
#: Rows per Arrow batch DataFusion produces: big enough to amortise Python overhead, small
#: enough that the first bytes of a 10,000-row answer leave early (and that a failure late in
#: such an answer comes after its first batch, as an NDJSON `error` line).
BATCH_ROWS = 4096
_READ_ONLY = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(False)


class LocalQueryError(LocalServerError):
    """The query failed (HTTP 400): refused by the guard, invalid SQL, or a runtime error."""


class QueryTimeoutError(LocalQueryError):
    """The query ran longer than the engine's `query_timeout` and was interrupted."""


class InvalidParameterError(LocalServerError, ValueError):
    """A request parameter has a value the engine cannot use (HTTP 422); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Interrupted(BaseException):
    """Raised inside the thread fetching from DataFusion when the time budget runs out."""


#: The name of the thread that holds an open query's time budget (one per open query).
QUERY_BUDGET_THREAD = "logfire-local-query-budget"


class QueryResult:
    """An open query: its Arrow schema, then its record batches, pulled one by one.

    The first batch is fetched when the result is created, so an error in the query surfaces
    before any HTTP header is sent. `close()` must be called (it is idempotent and safe from any
    thread): it cancels the time budget and interrupts a fetch still running.
    """

    def __init__(self, stream: Any, schema: pa.Schema, *, timeout: float, plan: str | None = None) -> None:
        self.plan = plan
        self.schema = _output_schema(schema)
        self._stream = stream
        self._timeout = timeout
        self._timed_out = False
        self._closed = False
        self._lock = threading.Lock()
        self._fetching: int | None = None
        self._timer = threading.Timer(timeout, self._interrupt_for_timeout)
        self._timer.name, self._timer.daemon = QUERY_BUDGET_THREAD, True
        self._timer.start()
        try:
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
        """Stop the query (if still running) and release it."""
        self._timer.cancel()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._interrupt_locked()
        self._stream = None

    def _take_next(self) -> pa.RecordBatch | None:
        if self._pending is not None:
            batch, self._pending = self._pending, None
            return batch
        return self._fetch()

    def _fetch(self) -> pa.RecordBatch | None:
        try:
            with self._lock:
                if self._closed:
                    raise LocalQueryError("The query was cancelled")
                self._fetching = threading.get_ident()
            try:
                batch = self._stream.next()
            finally:
                with self._lock:
                    self._fetching = None
        except StopIteration:
            self._timer.cancel()
            return None
        except _Interrupted:
            raise self._stopped() from None
        except (Exception, KeyboardInterrupt) as exc:
            if self._timed_out or self._closed:
                raise self._stopped() from None
            raise LocalQueryError(_message(exc)) from None
        arrow = batch.to_pyarrow()
        return arrow if arrow.schema == self.schema else _conform(arrow, self.schema)

    def _stopped(self) -> LocalQueryError:
        if self._timed_out:
            return QueryTimeoutError(
                f"The query ran longer than the {self._timeout:g} s time limit and was cancelled"
            )
        return LocalQueryError("The query was cancelled")

    def _interrupt_for_timeout(self) -> None:
        with self._lock:
            self._timed_out = True
            self._interrupt_locked()

    def _interrupt_locked(self) -> None:
        if self._fetching is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._fetching), ctypes.py_object(_Interrupted)
            )


class LocalEngine:
    """Logfire's tables on DataFusion, safe to query from many threads while rows are loaded."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        query_timeout: float = DEFAULT_QUERY_TIMEOUT,
    ) -> None:
        self.directory = None if directory is None else Path(directory).expanduser()
        self.query_timeout = query_timeout
        self._store = SegmentStore(self.directory)
        self._load_lock = threading.Lock()

    @classmethod
    def in_directory(cls, data_dir: str | os.PathLike[str], **kwargs: Any) -> LocalEngine:
        """An engine whose data persists in `data_dir` (created if needed) across restarts."""
        directory = Path(data_dir).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, **kwargs)

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self.directory is None else str(self.directory)
        return f"LocalEngine({where})"

    def close(self) -> None:
        """Nothing to flush: every load is already on disk when it returns (with a directory)."""

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
        the result's `plan` holds DataFusion's plan as text.

        Raises LocalQueryError (refused or failing SQL) or InvalidParameterError (bad timezone).
        """
        try:
            parsed = parse_query(sql)
            runnable = sql if parsed is None else rewrite(sql, parsed)
        except SqlRefusedError as exc:
            raise LocalQueryError(str(exc)) from None
        head = None
        if parsed is not None and self._store.in_time_order(RECORDS.name):
            unsorted = without_stored_order(parsed, runnable)
            head = leading_rows(parsed, limit, ordered=unsorted is None)
            runnable = runnable if unsorted is None else unsorted
        tables = None if parsed is None else _named_tables(parsed)
        parallel = parsed is not None and order_free_aggregation(parsed)
        ctx = self._session(
            min_timestamp, max_timestamp, environments, timezone, tables, parallel=parallel, head=head
        )
        try:
            frame = ctx.sql_with_options(runnable, _READ_ONLY).limit(limit)
            plan = frame.optimized_logical_plan().display_indent() if explain else None
            stream = frame.execute_stream()
        except Exception as exc:
            raise LocalQueryError(_message(exc)) from None
        return QueryResult(stream, frame.schema(), timeout=self.query_timeout, plan=plan)

    def _session(
        self,
        min_timestamp: datetime | None,
        max_timestamp: datetime | None,
        environments: Sequence[str] | None,
        timezone: str | None,
        tables: set[str] | None = None,
        *,
        parallel: bool = False,
        head: int | None = None,
    ) -> SessionContext:
        """A session holding the window of each table (of those named in `tables`, if given).

        Registering only the tables a query names keeps a query's fixed cost low; a name the
        query does not use could not be read by it anyway. `parallel` lets DataFusion deal the
        scanned rows out to its threads (for a query whose answer cannot depend on their order,
        see `ordering.order_free_aggregation`). `head` keeps only the first rows of `records`
        window (see `ordering.leading_rows`).
        """
        zone = "UTC" if timezone is None else _checked_time_zone(timezone)
        # The stored rows are scanned as one partition, never dealt out round-robin: a query
        # without ORDER BY reads them in their stored (time) order, the same on every request,
        # as a LIMIT page must. Aggregations still spread over threads by hash.
        config = SessionConfig().with_batch_size(BATCH_ROWS).with_information_schema(True)
        config = config.set("datafusion.optimizer.repartition_file_scans", "false")
        config = config.set("datafusion.optimizer.enable_round_robin_repartition", str(parallel).lower())
        config = config.set("datafusion.execution.time_zone", zone)
        ctx = SessionContext(config)
        register_functions(ctx)
        # As on Logfire, `records` is `records_all` without the pending spans.
        sources = {**{name: (name,) for name in TABLES}, "records_all": (RECORDS.name, PENDING)}
        for name, stored in sources.items():
            if tables is None or name in tables:
                table = TABLES.get(name, RECORDS)
                batches = [
                    batch
                    for part in stored
                    for batch in self._store.window(part, min_timestamp, max_timestamp, environments)
                ]
                if head is not None and name == RECORDS.name:
                    batches = _first_rows(batches, head)
                ctx.register_record_batches(name, [batches or [_empty_batch(table)]])
        return ctx

    # -- loading ---------------------------------------------------------------------------

    def insert_arrow(
        self, table_name: str, data: pa.Table | pa.RecordBatchReader, *, keep_sorted: bool = True
    ) -> int:
        """Append rows to a table and return how many were added.

        `data` may hold any subset of the table's columns (see `loading.complete_rows` for what
        fills the others). With `keep_sorted` the whole table stays one time-sorted segment, so
        rows come back in time order even without ORDER BY. `keep_sorted=False` is for frequent
        small appends such as OTLP ingest: the rows become a sorted segment of their own instead
        of rewriting the table each time (segments are merged once there are many).
        """
        table = _table(table_name)
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        rows = complete_rows(table, data)
        parts = {table.name: [rows]}
        if table is RECORDS:
            pending = pc.equal(rows.column("kind"), "pending_span")
            if pc.any(pending).as_py():
                parts = {table.name: [rows.filter(pc.invert(pending))], PENDING: [rows.filter(pending)]}
        with self._load_lock:
            self._store.append(parts, merge=keep_sorted)
        return rows.num_rows

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
        """Generate demo telemetry (see `local.demo.generate_demo`) and return its summary.

        All or nothing: the rows become visible together once all are generated.
        """
        from airflow_provider_logfire.local.demo import generate_demo

        generated: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
        summary = generate_demo(
            lambda name, rows: generated[name].append(rows),
            days=days,
            rows_per_day=rows_per_day,
            seed=seed,
            end=end,
            project_id=project_id,
        )
        with self._load_lock:
            self._store.append({name: parts for name, parts in generated.items() if parts})
        return summary

    def clear(self) -> None:
        """Delete every stored row of both tables."""
        with self._load_lock:
            self._store.clear()

    def count(self, table_name: str) -> int:
        """Number of stored rows in a table (ignoring any window; pending spans not counted)."""
        return self._store.count(_table(table_name).name)


def _table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise LoadError(f"Unknown table {name!r}; expected one of {', '.join(TABLES)}") from None


def _named_tables(parsed: exp.Expression) -> set[str] | None:
    """The tables a query names; None (all of them) when it reads `information_schema`."""
    references = list(parsed.find_all(exp.Table))
    if any(t.db.lower() == "information_schema" for t in references):
        return None
    return {t.name.lower() for t in references}


def _first_rows(batches: list[pa.RecordBatch], count: int) -> list[pa.RecordBatch]:
    """The first `count` rows of `batches`, as zero-copy slices."""
    kept = []
    for batch in batches:
        if count <= 0:
            break
        kept.append(batch if batch.num_rows <= count else batch.slice(0, count))
        count -= batch.num_rows
    return kept


def _empty_batch(table: Table) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=table.schema)


def _checked_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidParameterError("timezone", f"Unknown time zone {name!r}") from None
    return name


def _message(exc: BaseException) -> str:
    """DataFusion's own error text, without the Python exception class around it."""
    text = str(exc).strip()
    return text or type(exc).__name__


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` in the result's schema (names, types and nullability as planned)."""
    columns = [column.cast(field.type) for column, field in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _output_schema(schema: pa.Schema) -> pa.Schema:
    """The schema results leave with: Logfire's Arrow conventions, whatever DataFusion produced.

    Timestamps with a zone are UTC (the session zone changes how SQL computes, not what an
    instant is), list items are named `item`, dictionaries are plain values.
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
