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

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.writers.layout import TIME_UNITS, hive_escape

_TIME_FORMATS = {"day": "%Y-%m-%d", "hour": "%H", "minute": "%M"}


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
        """Each partition of `batch` with its rows (in their order), partition columns removed."""
        if not self.keys:
            yield Partition(()), batch
            return
        components = [self._component(batch, key) for key in self.keys]
        dropped = self.columns_dropped(batch.schema)
        kept = batch.drop_columns(dropped) if dropped else batch
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
