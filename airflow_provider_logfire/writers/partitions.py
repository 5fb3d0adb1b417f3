"""Split record batches by Hive partition: the folder each row belongs in, computed per column.

A key that names a column of the batch partitions by that column's value, and the column leaves
the files (Hive's convention: the value lives in the folder name, and readers such as Spark,
DuckDB, Athena, BigQuery and pyarrow.dataset add it back). A key among `TIME_UNITS` that is not
a column partitions by that unit of the time column, in UTC: `day=2026-11-27`, `hour=09`,
`minute=05`; the time column itself stays in the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.writers.layout import TIME_UNITS, hive_escape

_TIME_FORMATS = {"day": "%Y-%m-%d", "hour": "%H", "minute": "%M"}
_UNIT_MICROS = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Microseconds per unit of an Arrow timestamp (nanoseconds are floored instead).
_MICROS_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}


@dataclass(frozen=True)
class Partition:
    """One partition: its key values (None for NULL) and the folder they name."""

    values: tuple[tuple[str, str | None], ...]

    @property
    def folder(self) -> str:
        """`key=value/...` with Hive escaping; "" for an export without partition keys."""
        return "/".join(f"{key}={hive_escape(value)}" for key, value in self.values)

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.values)


@dataclass(frozen=True)
class Partitioner:
    """Splits batches of one export by `keys`; see the module docstring for what a key means."""

    keys: tuple[str, ...]
    time_column: str

    def columns_dropped(self, schema: pa.Schema) -> list[str]:
        """The partition columns, which Hive keeps out of the files."""
        return [key for key in self.keys if key in schema.names]

    def time_keys(self, schema: pa.Schema) -> list[str]:
        """The keys that are units of the time column: rows reach them in time order."""
        return [key for key in self.keys if key not in schema.names]

    def split(self, batch: pa.RecordBatch) -> Iterator[tuple[Partition, pa.RecordBatch]]:
        """The rows of `batch` by partition, in their order, partition columns removed.

        Rows of one partition usually come in runs (always, for time units of time-ordered
        rows): runs are handed on as zero-copy slices, one pair each, so a partition may come
        more than once. Rows that interleave (a column of many alternating values) are gathered
        per partition instead.
        """
        if not self.keys:
            yield Partition(()), batch
            return
        runs = self._time_runs(batch)
        if runs is not None:
            for start, end, values in runs:
                yield Partition(tuple(zip(self.keys, values, strict=True))), batch.slice(start, end - start)
            return
        components = [self._component(batch, key) for key in self.keys]
        dropped = self.columns_dropped(batch.schema)
        kept = batch.drop_columns(dropped) if dropped else batch
        starts = _run_starts(components)
        if len(starts) <= _MAX_RUNS:
            ends = [*starts[1:], batch.num_rows]
            for start, end in zip(starts, ends, strict=True):
                values = tuple(component[start].as_py() for component in components)
                yield Partition(tuple(zip(self.keys, values, strict=True))), kept.slice(start, end - start)
            return
        table = pa.table(components, names=[f"k{i}" for i in range(len(components))])
        groups = table.group_by(table.column_names, use_threads=False).aggregate([])
        for group in groups.to_pylist():
            values = tuple(group[f"k{i}"] for i in range(len(components)))
            mask = None
            for component, value in zip(components, values, strict=True):
                match = pc.is_null(component) if value is None else pc.equal(component, value)
                mask = match if mask is None else pc.and_(mask, match)
            rows = kept.filter(pc.fill_null(mask, False))
            yield Partition(tuple(zip(self.keys, values, strict=True))), rows

    def _time_runs(self, batch: pa.RecordBatch) -> list[tuple[int, int, tuple[str, ...]]] | None:
        """Runs of rows per time partition, found by arithmetic on the sorted time column.

        The common case (time units only, rows in time order, as the exporter hands them) needs
        no Arrow compute kernel: those cost tens of MB of memory the first time one runs. None
        when this does not apply, and `split` takes the general path.
        """
        keys = self.time_keys(batch.schema)
        if not batch.num_rows or keys != list(self.keys) or not set(keys) <= set(TIME_UNITS):
            return None
        column = batch.column(self.time_column) if self.time_column in batch.schema.names else None
        if column is None or not pa.types.is_timestamp(column.type) or column.null_count:
            return None
        micros = _epoch_micros(column)
        if len(micros) > 1 and bool((np.diff(micros) < 0).any()):
            return None
        width = min(_UNIT_MICROS[key] for key in self.keys)
        units = micros // width
        starts = [0, *(np.flatnonzero(np.diff(units)) + 1).tolist()]
        ends = [*starts[1:], len(micros)]
        runs = []
        for start, end in zip(starts, ends, strict=True):
            moment = _EPOCH + timedelta(microseconds=int(micros[start]))
            runs.append((start, end, tuple(moment.strftime(_TIME_FORMATS[key]) for key in self.keys)))
        return runs

    def _component(self, batch: pa.RecordBatch, key: str) -> pa.Array:
        """The partition value of every row for `key`, as strings (nulls kept)."""
        if key in batch.schema.names:
            return _as_text(batch.column(key), key)
        if key not in TIME_UNITS:
            raise LogfireConfigError(
                f"partition_by key {key!r} is neither a column of the query ({', '.join(batch.schema.names)}) "
                f"nor a unit of the time column ({', '.join(TIME_UNITS)})"
            )
        if self.time_column not in batch.schema.names:
            raise LogfireConfigError(
                f"partition_by={key!r} cuts the time column {self.time_column!r}, which the query does not return"
            )
        column = batch.column(self.time_column)
        if not pa.types.is_timestamp(column.type):
            raise LogfireConfigError(
                f"partition_by={key!r} needs {self.time_column!r} to be a timestamp, not {column.type}"
            )
        utc = column if column.type.tz else pc.assume_timezone(column, "UTC")
        return pc.strftime(utc, format=_TIME_FORMATS[key])


#: Up to this many runs of equal partition values per batch are sliced rather than gathered.
_MAX_RUNS = 32


def time_bounds(column: pa.Array) -> tuple[datetime, datetime] | None:
    """The earliest and latest instant of a timestamp column (None if it has no value).

    Through the integers, not `as_py()`: turning a zoned Arrow timestamp into a Python one
    imports pandas, which costs a DAG worker tens of MB.
    """
    if not pa.types.is_timestamp(column.type) or column.null_count == len(column):
        return None
    if column.null_count:
        bounds = pc.min_max(column.view(pa.int64())).as_py()
        low, high = _as_micros(bounds["min"], column.type), _as_micros(bounds["max"], column.type)
    else:  # numpy over the buffer: a fraction of a compute kernel's per-call cost, per batch
        micros = _epoch_micros(column)
        low, high = int(micros.min()), int(micros.max())
    return _EPOCH + timedelta(microseconds=low), _EPOCH + timedelta(microseconds=high)


def _as_micros(value: Any, data_type: pa.TimestampType) -> Any:
    """Microseconds from a timestamp's integer (or a numpy array of them); nanoseconds floored."""
    per_micro = _MICROS_PER_UNIT.get(data_type.unit)
    if per_micro is None:
        return value // 1_000
    return value * per_micro if per_micro != 1 else value


def _epoch_micros(column: pa.Array) -> np.ndarray:
    """Microseconds since the epoch (UTC) of a null-free timestamp array (a zero-copy view for `us`)."""
    values = np.frombuffer(column.buffers()[1], dtype=np.int64, count=len(column) + column.offset)
    return _as_micros(values[column.offset :], column.type)


def _run_starts(components: list[pa.Array]) -> list[int]:
    """The row numbers where the partition value changes (0 first); NULL equals NULL."""
    if not len(components[0]):
        return []
    changed = None
    for component in components:
        before, after = component[:-1], component[1:]
        differs = pc.fill_null(pc.not_equal(after, before), pc.xor(pc.is_null(after), pc.is_null(before)))
        changed = differs if changed is None else pc.or_(changed, differs)
    assert changed is not None
    return [0, *(index + 1 for index in pc.indices_nonzero(changed).to_pylist())]


def _as_text(column: pa.Array, key: str) -> pa.Array:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        raise LogfireConfigError(f"cannot partition by column {key!r} of type {kind}: use a scalar column")
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_timestamp(kind):
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(column, pa.string())
