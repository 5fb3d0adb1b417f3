"""Make every batch of an export fit one schema, or say exactly which column does not.

Pieces of one export come from separate requests, so their schemas can differ in harmless ways
(nullability, metadata, `int32` vs `int64`, an all-null column typed `null`, column order). Those
are cast to the export's schema. Anything else (a column that changes kind, appears or disappears)
would silently corrupt the file, so it raises `SchemaMismatchError` naming the column.
"""

from __future__ import annotations

import pyarrow as pa

from airflow_provider_logfire.exceptions import SchemaMismatchError
from airflow_provider_logfire.writers.type_families import LISTS, STRINGS, VARIABLE_BINARIES, is_any


def is_castable(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether values of `source` may be cast to `target` without changing what they mean.

    Deliberately narrower than Arrow's own casts: numbers never become text, text never numbers.
    Whether each value fits (int64 → int32, ns → us) is checked by the safe cast itself.
    """
    if source == target or pa.types.is_null(source):
        return True
    if pa.types.is_dictionary(source):
        return is_castable(source.value_type, target)
    if pa.types.is_dictionary(target):
        return is_castable(source, target.value_type)
    if pa.types.is_integer(source):
        return pa.types.is_integer(target) or pa.types.is_floating(target) or pa.types.is_decimal(target)
    if pa.types.is_floating(source):
        return pa.types.is_floating(target)
    if pa.types.is_decimal(source):
        return pa.types.is_decimal(target)
    if pa.types.is_timestamp(source):
        return pa.types.is_timestamp(target) and (source.tz is None) == (target.tz is None)
    for family in (STRINGS, VARIABLE_BINARIES, LISTS):
        if is_any(family, source) and is_any(family, target):
            return family is not LISTS or is_castable(source.value_type, target.value_type)
    for check in (pa.types.is_date, pa.types.is_time, pa.types.is_duration):
        if check(source) and check(target):
            return True
    if pa.types.is_struct(source) and pa.types.is_struct(target):
        return [f.name for f in source] == [f.name for f in target] and all(
            is_castable(s.type, t.type) for s, t in zip(source, target, strict=True)
        )
    if pa.types.is_map(source) and pa.types.is_map(target):
        return is_castable(source.key_type, target.key_type) and is_castable(
            source.item_type, target.item_type
        )
    return False


def _conform_column(field: pa.Field, column: pa.Array) -> pa.Array:
    if column.type != field.type:
        if not is_castable(column.type, field.type):
            raise SchemaMismatchError(
                f"column {field.name!r} has type {column.type} in this batch but {field.type} in the export"
            )
        try:
            column = column.cast(field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise SchemaMismatchError(
                f"column {field.name!r}: cannot convert {column.type} to {field.type}: {error}"
            ) from error
    if not field.nullable and column.null_count:
        raise SchemaMismatchError(
            f"column {field.name!r} is declared not nullable but this batch has {column.null_count} null(s)"
        )
    return column


def conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Return `batch` with exactly `schema` (same columns, order and types), or raise `SchemaMismatchError`."""
    names = batch.schema.names
    if names != schema.names:
        missing = [name for name in schema.names if name not in names]
        unexpected = [name for name in names if name not in schema.names]
        if missing or unexpected or len(set(names)) != len(names):
            details = []
            if missing:
                details.append(f"missing column(s) {', '.join(map(repr, missing))}")
            if unexpected:
                details.append(f"unexpected column(s) {', '.join(map(repr, unexpected))}")
            raise SchemaMismatchError(
                "batch does not match the export's columns: "
                + ("; ".join(details) or "duplicate column names")
            )
        batch = batch.select(schema.names)
    pairs = list(zip(schema, batch.columns, strict=True))
    if batch.schema.equals(schema, check_metadata=True) and all(
        field.nullable or not column.null_count for field, column in pairs
    ):
        return batch
    columns = [_conform_column(field, column) for field, column in pairs]
    return pa.RecordBatch.from_arrays(columns, schema=schema)
