"""Realistic, deterministic demo telemetry for the local Logfire server.

Why: exports, sensors and error reports are only convincing on data that looks like a real
service's: traces of nested spans across services, logs inside them, a day/night traffic curve,
the odd 404, timeout and crash, and metrics that agree with the spans.

How: traffic is a catalogue of trace *templates* (a small shop's HTTP routes and an e-mail
worker, each with its DB/cache/HTTP-client child spans, logs and error variants), described in
`traces` and flattened into arrays in `records` (`_Catalog`); `metrics` derives the points that
agree with those spans and `timeline` holds what both share (time, chunks, resources). The time range
is cut into chunks of at most `timeline.MAX_CHUNK_ROWS` records; per chunk numpy draws which templates
occur, when and how long they take, and pyarrow carries the rows (template text as dictionary
arrays, so nothing is copied per row). Batches of chunks go through a DuckDB `INSERT ... SELECT`
that fills in the text (messages, JSON) and keeps the rows in time order. Every random draw comes from
a generator seeded by `(seed, chunk)`, so the same arguments give byte-identical rows. Nothing
touches the file system, so it works on a connection with `enable_external_access = false`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa

from airflow_provider_logfire.local.demo.metrics import METRICS_SQL, metrics_chunk
from airflow_provider_logfire.local.demo.records import CHUNK_VIEW, RECORDS_SQL, ServerSpans, records_chunk
from airflow_provider_logfire.local.demo.timeline import DAY, EPOCH, MAX_CHUNK_ROWS, Chunk, chunks

__all__ = ["DemoSummary", "generate_demo"]


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` inserted: row counts and the records' time span `[start, end)`."""

    records: int
    metrics: int
    start: datetime
    end: datetime


class _Writer:
    """Collects chunk tables and inserts them in batches of about `MAX_CHUNK_ROWS` rows.

    Small chunks (quiet hours, metrics) would otherwise cost one statement each. A `seq`
    column numbers the rows in generation order, which is time order, so the INSERT can
    keep that order even when DuckDB does not preserve insertion order.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str, project_id: str) -> None:
        self._con, self._sql, self._project_id = con, sql, project_id
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= MAX_CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending_rows:
            return
        batch = pa.concat_tables(self._pending)
        batch = batch.append_column("seq", pa.array(np.arange(batch.num_rows, dtype=np.int64)))
        self._con.register(CHUNK_VIEW, batch)
        try:
            self._con.execute(self._sql, {"project_id": self._project_id})
        finally:
            with contextlib.suppress(duckdb.Error):  # fails in an aborted transaction; keep the cause
                self._con.unregister(CHUNK_VIEW)
        self.rows += batch.num_rows
        self._pending, self._pending_rows = [], 0


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the caller has a transaction open.

    DuckDB has no flag for it, and a failed BEGIN would abort the caller's transaction. But in
    auto-commit mode every statement runs in a new transaction, so the id changes between two
    statements only when no transaction is open.
    """
    first, second = (con.execute("SELECT txid_current()").fetchall()[0][0] for _ in range(2))
    return first == second


@contextlib.contextmanager
def _atomic(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a transaction of our own, unless the caller's is open (then it decides)."""
    if _in_transaction(con):
        yield
        return
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _utc_microseconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("end must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))")
    return (moment - EPOCH) // timedelta(microseconds=1)


def _chunk_rng(seed: int, chunk: Chunk) -> np.random.Generator:
    mask = 2**64 - 1
    return np.random.default_rng(
        np.random.SeedSequence([seed & mask, chunk.start & mask, chunk.end & mask, chunk.rows])
    )


_NO_SERVER_SPANS = ServerSpans(
    *(np.zeros(0, dtype=dtype) for dtype in (np.int64, np.float64, np.int64, np.int64))
)


def generate_demo(
    con: duckdb.DuckDBPyConnection,
    *,
    days: int,
    rows_per_day: int,
    seed: int = 0,
    end: datetime | None = None,
    project_id: str = "local",
) -> DemoSummary:
    """Insert `days` days of a small shop's telemetry into the store tables, ending at `end`.

    Records span `[start, end)`, `start` being midnight UTC `days` days before the UTC day of
    `end` (default: now). Every full day gets exactly `rows_per_day` records; the partial day of
    `end` gets its share by clock time, `rows_per_day * elapsed // 24 h`. Within a day, traffic
    follows a day/night curve (UTC). `days=0` inserts nothing.

    Metrics are recorded each minute inside the same span: per HTTP route and environment, a
    request count and a duration histogram that agree with the server spans of that minute
    (only for minutes with requests), and a memory gauge per service (every minute, whatever
    `rows_per_day`).

    The same arguments (with an explicit `end`) insert byte-identical rows, in time order. The
    tables must exist (`tables.create_tables`). All or nothing: the rows are inserted in a
    transaction of their own, or in the caller's if one is open.
    """
    if days < 0 or rows_per_day < 0:
        raise ValueError("days and rows_per_day must not be negative")
    end_us = _utc_microseconds(end if end is not None else datetime.now(timezone.utc))
    start_us = (end_us // DAY - days) * DAY if days else end_us

    records = _Writer(con, RECORDS_SQL, project_id)
    metrics = _Writer(con, METRICS_SQL, project_id)
    with _atomic(con):
        for chunk in chunks(start_us, end_us, rows_per_day):
            rng = _chunk_rng(seed, chunk)
            spans = _NO_SERVER_SPANS
            if chunk.rows:
                table, spans = records_chunk(rng, chunk)
                records.add(table)
            points = metrics_chunk(rng, chunk, spans, end_us)
            if points is not None:
                metrics.add(points)
        records.flush()
        metrics.flush()
    return DemoSummary(
        records=records.rows,
        metrics=metrics.rows,
        start=EPOCH + timedelta(microseconds=start_us),
        end=EPOCH + timedelta(microseconds=end_us),
    )
