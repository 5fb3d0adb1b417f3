"""The local server's stored rows: per table, immutable Arrow segments sorted by the time column.

Why segments: a query must never see rows outside its window, and the cheapest way to make that a
fact rather than a filter is to hand DataFusion nothing else. Each segment is sorted by the
table's time column, so a window is two binary searches and a zero-copy slice per segment; the
slices are all a query's session ever holds.

Writers never change a segment: a load adds one (sorted) segment and swaps the tuple under a lock,
so a query that took its snapshot keeps reading consistent rows while OTLP ingest goes on. Many
small segments (one per OTLP request) are merged into one once there are more than
`MAX_SEGMENTS`, which keeps the per-query slicing cost flat.

With a directory, every segment is also a Parquet file there (written to a temporary name and
renamed), so `--data-dir` keeps the rows across restarts.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airflow_provider_logfire.local.tables import TABLES, Table

#: More segments than this and the table is merged into one.
MAX_SEGMENTS = 32
#: Rows per stored chunk: few enough chunks that per-batch costs (a Python UDF call, an FFI
#: hand-over) stay small, many enough that a window's slice touches little more than it needs.
CHUNK_ROWS = 65_536
#: Pending spans (`kind = 'pending_span'`), kept apart: `records_all` shows them, `records` not.
PENDING = "records_pending"
#: Everything stored, by name: the tables, and the pending spans in the `records` schema.
STORED: dict[str, Table] = {**TABLES, PENDING: TABLES["records"]}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class _Segment:
    """A sorted segment and its time column as microseconds (NULL times, first, left out), made
    once when the segment is stored, so that slicing a window is two binary searches and no cast."""

    rows: pa.Table
    times: np.ndarray
    nulls: int

    @classmethod
    def of(cls, rows: pa.Table, time_column: str) -> _Segment:
        times = rows.column(time_column)
        return cls(rows, _micros_array(times.slice(times.null_count)), times.null_count)


class SegmentStore:
    """Sorted Arrow segments of `records` and `metrics`, optionally mirrored to Parquet files."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = None if directory is None else Path(directory)
        self._lock = threading.Lock()
        self._segments: dict[str, tuple[_Segment, ...]] = {name: () for name in STORED}
        self._files: dict[str, tuple[Path, ...]] = {name: () for name in STORED}
        self._sequence = itertools.count()
        if self.directory is not None:
            self._open_directory()

    # -- writing ---------------------------------------------------------------------------

    def append(self, tables: dict[str, list[pa.Table]], *, merge: bool = True) -> None:
        """Add complete rows (already in the stored schema) to several tables at once.

        All tables become visible together, so a reader never sees half of a load. With `merge`,
        each table is left as one sorted segment (what a bulk load wants: rows come back in
        time order even without ORDER BY); without, the rows become a segment of their own
        (what frequent small appends want: no rewrite of the whole table each time).
        """
        prepared = {name: _sorted(STORED[name], pa.concat_tables(parts)) for name, parts in tables.items()}
        prepared = {name: table for name, table in prepared.items() if table.num_rows}
        if not prepared:
            return
        segments = {name: _Segment.of(table, STORED[name].time_column) for name, table in prepared.items()}
        with self._lock:
            for name, table in prepared.items():
                self._segments[name] = (*self._segments[name], segments[name])
                self._files[name] = (*self._files[name], *self._write_files(name, [table]))
                if len(self._segments[name]) > (1 if merge else MAX_SEGMENTS):
                    self._merge(name)

    def clear(self) -> None:
        with self._lock:
            for name in STORED:
                self._replace_files(name, [])
                self._segments[name] = ()

    # -- reading ---------------------------------------------------------------------------

    def count(self, name: str) -> int:
        return sum(segment.num_rows for segment in self.snapshot(name))

    def in_time_order(self, name: str) -> bool:
        """Whether every window of `name` comes out of `window` in time order, as one sorted run:
        its segments, each sorted, follow one another in time (one segment always does)."""
        with self._lock:
            segments = [s for s in self._segments[name] if len(s.times)]
        if any(s.nulls for s in segments):
            return False
        return all(a.times[-1] <= b.times[0] for a, b in itertools.pairwise(segments))

    def snapshot(self, name: str) -> tuple[pa.Table, ...]:
        with self._lock:
            return tuple(segment.rows for segment in self._segments[name])

    def window(
        self,
        name: str,
        min_timestamp: datetime | None,
        max_timestamp: datetime | None,
        environments: Sequence[str] | None = None,
    ) -> list[pa.RecordBatch]:
        """The rows with `min_timestamp <= time < max_timestamp`, as record batches.

        Rows whose time is NULL (possible only in `metrics`) belong to no window with a bound.
        `environments` keeps rows whose `deployment_environment` is one of the names, `""`
        meaning "none set" (NULL or empty).
        """
        low = None if min_timestamp is None else _micros(min_timestamp)
        high = None if max_timestamp is None else _micros(max_timestamp)
        batches: list[pa.RecordBatch] = []
        with self._lock:
            segments = self._segments[name]
        for segment in segments:
            piece = _slice(segment, low, high)
            if environments:
                piece = piece.filter(_environment_mask(piece, environments))
            batches.extend(piece.to_batches())
        return batches

    # -- internals -------------------------------------------------------------------------

    def _merge(self, name: str) -> None:
        merged = _sorted(STORED[name], pa.concat_tables([s.rows for s in self._segments[name]]))
        self._segments[name] = (_Segment.of(merged, STORED[name].time_column),)
        self._replace_files(name, [merged])

    def _replace_files(self, name: str, tables: Iterable[pa.Table]) -> None:
        old = self._files[name]
        self._files[name] = tuple(self._write_files(name, tables))
        for path in old:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _write_files(self, name: str, tables: Iterable[pa.Table]) -> list[Path]:
        if self.directory is None:
            return []
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for table in tables:
            path = folder / f"{os.getpid()}-{next(self._sequence):08d}-{id(table):x}.parquet"
            partial = path.with_suffix(".partial")
            pq.write_table(table, partial)
            partial.replace(path)
            written.append(path)
        return written

    def _open_directory(self) -> None:
        assert self.directory is not None
        for name, table in STORED.items():
            files = sorted((self.directory / name).glob("*.parquet"))
            segments = [_conform(table, pq.read_table(path)) for path in files]
            self._segments[name] = tuple(_Segment.of(s, table.time_column) for s in segments if s.num_rows)
            self._files[name] = tuple(files)
            if len(self._segments[name]) > 1:
                self._merge(name)


def _sorted(table: Table, data: pa.Table) -> pa.Table:
    """Rows in time order (NULL times first, so that no window bound ever reaches them), in
    chunks of `CHUNK_ROWS`."""
    times = data.column(table.time_column)
    if not (times.null_count == 0 and _is_sorted(_micros_array(times))):
        data = data.take(pc.array_sort_indices(times.combine_chunks(), null_placement="at_start"))
    if data.num_rows and max(len(c) for c in data.column(0).chunks) < CHUNK_ROWS // 2 < data.num_rows:
        data = pa.Table.from_batches(data.combine_chunks().to_batches(max_chunksize=CHUNK_ROWS))
    return data


def _is_sorted(values: np.ndarray) -> bool:
    return bool(len(values) < 2 or np.all(values[1:] >= values[:-1]))


def _slice(segment: _Segment, low: int | None, high: int | None) -> pa.Table:
    if low is None and high is None:
        return segment.rows
    nulls = segment.nulls  # sorted first, outside every bounded window
    start = nulls + (0 if low is None else _search(segment.times, low))
    stop = segment.rows.num_rows if high is None else nulls + _search(segment.times, high)
    return segment.rows.slice(start, max(0, stop - start))


def _search(values: np.ndarray, bound: int) -> int:
    return int(np.searchsorted(values, bound, side="left"))


def _micros_array(times: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks()
    return times.cast(pa.int64()).to_numpy(zero_copy_only=False)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _environment_mask(piece: pa.Table, environments: Sequence[str]) -> pa.ChunkedArray:
    column = piece.column("deployment_environment")
    names = sorted({name for name in environments if name})
    mask = pc.is_in(column, value_set=pa.array(names, pa.string())) if names else None
    if "" in environments:
        unset = pc.or_kleene(pc.is_null(column), pc.equal(column, ""))
        mask = unset if mask is None else pc.or_kleene(mask, unset)
    return pc.fill_null(mask, False)


def _conform(table: Table, data: pa.Table) -> pa.Table:
    """A segment read back from Parquet, in exactly the stored schema."""
    return data.select(list(table.column_names)).cast(table.schema)
