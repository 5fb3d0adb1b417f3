"""Paging through a time window exactly, past the query API's 10,000-row page cap.

How it stays exact whatever the server does at its bounds:
1. One aggregated query counts rows per time bucket of the window (a plan, not a promise).
2. Buckets are packed into pieces expected to hold well under the cap.
3. Each piece is fetched with SQL that itself keeps `time_column >= start AND time_column < end`,
   while the API's own `min_timestamp`/`max_timestamp` are a slightly wider superset, so neither
   an inclusive nor an exclusive server bound can drop or double a row at a piece edge.
4. A piece that still comes back full (== the cap, maybe truncated) is not thrown away: its SQL
   orders by the time column, so a full page holds every row before its last instant; those rows
   are kept and the piece continues from that instant. (A page that did not come back in time
   order is halved and fetched again instead.) Either way down to a single microsecond: a full
   page at one instant is an error, never a silent cut.

Pieces are fetched concurrently by a small thread pool and written in time order; memory is
bounded by the pieces in flight, not by the window.

`core.exporter.export_window` runs this engine into the writers; call that, not this, to export.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.core.planning import (
    BOUND_PADDING,
    DEFAULT_TARGET_ROWS,
    bucket_count_sql,
    choose_bucket,
    piece_sql,
    plan_pieces,
    request_bounds,
    split_full_piece,
)
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.exceptions import LogfireConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_logfire.client import LogfireClient

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ExportPlan:
    """What the exporter will ask for: the user's SQL, over a window, cut at a time column."""

    sql: str
    window: TimeWindow
    time_column: str = "start_timestamp"
    environment: Sequence[str] | None = None
    timezone: str | None = None
    max_concurrency: int = 4
    page_limit: int = MAX_LIMIT
    #: Planned rows per piece: headroom under the cap for rows that arrive between count and fetch.
    target_rows: int = DEFAULT_TARGET_ROWS

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise LogfireConfigError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if not 1 <= self.target_rows < self.page_limit <= MAX_LIMIT:
            raise LogfireConfigError(
                f"target_rows must be below page_limit, which must be at most {MAX_LIMIT:,}"
            )


@dataclass
class ExportStats:
    """Counters reported as the task's XCom summary and in progress logs."""

    rows: int = 0
    requests: int = 0
    pieces_planned: int = 0
    pieces_done: int = 0
    splits: int = 0
    expected_rows: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1


class ExportProgress:
    """Logs pieces done/total, rows, rows/s and ETA at most every `interval` seconds."""

    def __init__(self, stats: ExportStats, *, interval: float = 10.0, logger: logging.Logger = log) -> None:
        self.stats = stats
        self.interval = interval
        self.logger = logger
        self._last = 0.0

    def update(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        s = self.stats
        elapsed = max(now - s.started, 1e-6)
        rate = s.rows / elapsed
        eta = ""
        if s.expected_rows and rate > 0 and s.rows < s.expected_rows:
            eta = f", ETA {(s.expected_rows - s.rows) / rate:.0f}s"
        self.logger.info(
            "Export progress: %d/%d pieces, %s rows (%s rows/s%s), %d requests",
            s.pieces_done,
            s.pieces_planned,
            f"{s.rows:,}",
            f"{rate:,.0f}",
            eta,
            s.requests,
        )


class WindowExporter:
    """Runs an `ExportPlan` with a client, handing record batches to `sink` in time order."""

    def __init__(self, client: LogfireClient, plan: ExportPlan, *, progress_interval: float = 10.0) -> None:
        self.client = client
        self.plan = plan
        self.stats = ExportStats()
        self.progress = ExportProgress(self.stats, interval=progress_interval)

    # -- planning ---------------------------------------------------------------------------------

    def plan_pieces(self) -> list[TimeWindow]:
        """Pieces from one count-per-bucket query over the whole window."""
        plan = self.plan
        bucket = choose_bucket(plan.window)
        sql = bucket_count_sql(plan.sql, time_column=plan.time_column, unit=bucket.unit, window=plan.window)
        self.stats.count_request()
        lo, hi = request_bounds(plan.window, BOUND_PADDING)
        result = self.client.query_json_rows(
            sql,
            min_timestamp=lo,
            max_timestamp=hi,
            limit=MAX_LIMIT,
            timezone=None,
            environment=plan.environment,
        )
        counts = [(row["bucket"], int(row["n"])) for row in result["rows"]]
        pieces = plan_pieces(plan.window, counts, bucket, target_rows=plan.target_rows)
        self.stats.pieces_planned = len(pieces)
        self.stats.expected_rows = sum(p.expected_rows for p in pieces)
        log.info(
            "Planned %d piece(s) for %s: about %s rows counted in %s buckets",
            len(pieces),
            plan.window,
            f"{self.stats.expected_rows:,}",
            bucket.unit,
        )
        return [p.window for p in pieces]

    # -- fetching ---------------------------------------------------------------------------------

    def fetch_piece(self, piece: TimeWindow) -> list[pa.RecordBatch]:
        """All rows of `piece`, split until no request comes back full."""
        plan = self.plan
        pending = [piece]
        batches: list[pa.RecordBatch] = []
        while pending:
            current = pending.pop(0)
            self.stats.count_request()
            lo, hi = request_bounds(current, BOUND_PADDING)
            table = self.client.query_arrow(
                piece_sql(plan.sql, time_column=plan.time_column, piece=current),
                min_timestamp=lo,
                max_timestamp=hi,
                limit=plan.page_limit,
                timezone=plan.timezone,
                environment=plan.environment,
            )
            if table.num_rows >= plan.page_limit:
                with self.stats._lock:
                    self.stats.splits += 1
                resume = _resume_after_full_page(table, plan.time_column, current)
                if resume is None:
                    log.info(
                        "Piece %s came back full (%d rows): splitting it in two", current, table.num_rows
                    )
                    pending[:0] = list(split_full_piece(current))
                    continue
                kept, rest = resume
                log.info(
                    "Piece %s came back full (%d rows): keeping the %d before %s, fetching the rest",
                    current,
                    table.num_rows,
                    kept.num_rows,
                    rest.start.isoformat(),
                )
                batches.extend(kept.to_batches())
                pending.insert(0, rest)
                continue
            # An empty answer still carries its columns: keep one empty batch so the file gets them.
            batches.extend(table.to_batches() or [_empty_batch(table)])
        return batches

    def run(self, sink: Callable[[pa.RecordBatch], Any]) -> ExportStats:
        """Plan, fetch concurrently, and feed `sink` every batch in time order."""
        pieces = self.plan_pieces()
        schema_given = False
        for batches in self._ordered_results(pieces):
            for batch in batches:
                # Empty batches are skipped, except the first: a window without rows still gets
                # a file with the query's columns.
                if batch.num_rows or not schema_given:
                    sink(batch)
                    schema_given = True
                    self.stats.rows += batch.num_rows
            self.stats.pieces_done += 1
            self.progress.update()
        self.progress.update(force=True)
        return self.stats

    def _ordered_results(self, pieces: list[TimeWindow]) -> Iterator[list[pa.RecordBatch]]:
        """Results of `fetch_piece` in piece order, with at most `2 * max_concurrency` pieces held.

        A piece is submitted only when it is within that distance of the next one to write: the
        workers stay busy past one slow piece, yet finished pieces cannot pile up without bound.
        """
        workers = self.plan.max_concurrency
        ahead = 2 * workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logfire-export") as pool:
            futures: dict[int, Future[list[pa.RecordBatch]]] = {}
            next_submit = 0
            next_yield = 0
            try:
                while next_yield < len(pieces):
                    while next_submit < len(pieces) and next_submit < next_yield + ahead:
                        futures[next_submit] = pool.submit(self.fetch_piece, pieces[next_submit])
                        next_submit += 1
                    head = futures[next_yield]
                    if not head.done():
                        wait([head, *futures.values()], return_when=FIRST_COMPLETED)
                        # Surface a failure from any piece at once instead of after the ones before it.
                        for fut in futures.values():
                            if fut.done() and fut.exception() is not None:
                                raise fut.exception()  # type: ignore[misc]
                        continue
                    yield head.result()
                    del futures[next_yield]
                    next_yield += 1
            finally:
                for fut in futures.values():
                    fut.cancel()


def _empty_batch(table: pa.Table) -> pa.RecordBatch:
    """A zero-row batch with `table`'s columns."""
    import pyarrow as pa

    return pa.RecordBatch.from_pylist([], schema=table.schema)


def _resume_after_full_page(
    table: pa.Table, time_column: str, piece: TimeWindow
) -> tuple[pa.Table, TimeWindow] | None:
    """The rows of a full page that are surely complete, and the rest of the piece to fetch.

    A full page is the first `limit` rows of the piece in time order (its SQL ends with
    `ORDER BY time_column`), so every row before its last instant is in it, while rows at that
    instant may have been cut. Returns None when the page is not visibly in time order (the
    server did not keep the ORDER BY), so the caller halves the piece instead of trusting it.
    Raises `CrowdedInstantError` when the whole page shares the piece's first microsecond.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if time_column not in table.column_names:
        return None
    column = table.column(time_column)
    if not pa.types.is_timestamp(column.type) or column.null_count or not len(column):
        return None
    # Microseconds since the epoch, floored: the finest resolution a piece can be cut at.
    micros = pc.cast(column, pa.timestamp("us", column.type.tz), safe=False).cast(pa.int64())
    if len(micros) > 1 and not pc.all(pc.greater_equal(micros[1:], micros[:-1])).as_py():
        return None
    last = micros[-1].as_py()
    cut = _EPOCH + timedelta(microseconds=last)
    if cut < piece.start:  # rows from before the piece: nothing about this page can be trusted
        return None
    if cut == piece.start:
        # Only a one-microsecond piece can hold these rows, and it is full: report it as such.
        split_full_piece(TimeWindow(piece.start, piece.start + timedelta(microseconds=1)))
    kept = table.filter(pc.less(micros, pa.scalar(last, pa.int64())))
    return kept, TimeWindow(cut, piece.end)
