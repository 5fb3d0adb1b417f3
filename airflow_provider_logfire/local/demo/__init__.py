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
arrays, so nothing is copied per row). Batches of chunks go through a DataFusion `SELECT` that
fills in the text (messages, JSON) and keeps the rows in time order, and leave as Arrow tables in
the stored schema. Every random draw comes from a generator seeded by `(seed, chunk)`, so the same
arguments give byte-identical rows. Nothing touches the file system.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
from datafusion import SessionConfig, SessionContext

from airflow_provider_logfire.local.demo.metrics import METRIC_COLUMNS, metrics_chunk
from airflow_provider_logfire.local.demo.records import RECORD_COLUMNS, ServerSpans, records_chunk, select_sql
from airflow_provider_logfire.local.demo.timeline import DAY, EPOCH, MAX_CHUNK_ROWS, Chunk, chunks
from airflow_provider_logfire.local.tables import METRICS, RECORDS, Table

__all__ = ["DemoSummary", "generate_demo"]

#: Receives each finished batch of rows: `write(table_name, rows)`.
Write = Callable[[str, pa.Table], None]


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` inserted: row counts and the records' time span `[start, end)`."""

    records: int
    metrics: int
    start: datetime
    end: datetime


class _Writer:
    """Collects chunk tables and completes them in batches of about `MAX_CHUNK_ROWS` rows.

    Small chunks (quiet hours, metrics) would otherwise cost one query each. The rows are
    generated in time order; a single-partition session keeps that order through the SELECT
    (far cheaper than sorting them again).
    """

    def __init__(self, table: Table, columns: Mapping[str, str], project_id: str, write: Write) -> None:
        self._table, self._sql, self._write = table, select_sql(columns, project_id), write
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
        batch = pa.Table.from_arrays([_decoded(c) for c in batch.columns], names=batch.column_names)
        ctx = SessionContext(SessionConfig().with_target_partitions(1).with_repartition_file_scans(False))
        ctx.register_record_batches("chunk", [batch.to_batches()])
        rows = ctx.sql(self._sql).to_arrow_table()
        self._write(self._table.name, _stored(self._table, rows))
        self.rows += batch.num_rows
        self._pending, self._pending_rows = [], 0


def _stored(table: Table, rows: pa.Table) -> pa.Table:
    """Rows in the stored schema (plain strings, declared types and nullability)."""
    columns = [rows.column(f.name).cast(f.type) for f in table.schema]
    return pa.Table.from_arrays(columns, schema=table.schema)


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pa.chunked_array([c.dictionary_decode() for c in column.chunks], column.type.value_type)
    return column


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
    write: Write,
    *,
    days: int,
    rows_per_day: int,
    seed: int = 0,
    end: datetime | None = None,
    project_id: str = "local",
) -> DemoSummary:
    """Generate `days` days of a small shop's telemetry, ending at `end`, and `write` them.

    Records span `[start, end)`, `start` being midnight UTC `days` days before the UTC day of
    `end` (default: now). Every full day gets exactly `rows_per_day` records; the partial day of
    `end` gets its share by clock time, `rows_per_day * elapsed // 24 h`. Within a day, traffic
    follows a day/night curve (UTC). `days=0` inserts nothing.

    Metrics are recorded each minute inside the same span: per HTTP route and environment, a
    request count and a duration histogram that agree with the server spans of that minute
    (only for minutes with requests), and a memory gauge per service (every minute, whatever
    `rows_per_day`).

    The same arguments (with an explicit `end`) give byte-identical rows, in time order, as
    complete rows of `records` and `metrics` (`write` gets each batch; making them visible all at
    once is the caller's job, see `LocalEngine.load_demo`).
    """
    if days < 0 or rows_per_day < 0:
        raise ValueError("days and rows_per_day must not be negative")
    end_us = _utc_microseconds(end if end is not None else datetime.now(timezone.utc))
    start_us = (end_us // DAY - days) * DAY if days else end_us

    records = _Writer(RECORDS, RECORD_COLUMNS, project_id, write)
    metrics = _Writer(METRICS, METRIC_COLUMNS, project_id, write)
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
