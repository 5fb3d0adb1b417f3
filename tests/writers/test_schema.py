"""Tests of `writers.schema`: harmless schema differences are cast, the others name the column."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.writers import SchemaMismatchError

from .conftest import BATCHES, leftovers, write_all


def test_compatible_batches_are_cast_to_the_export_schema(tmp_path: Path) -> None:
    first = pa.record_batch(
        {"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"], "maybe": pa.array([1.0, 2.0])}
    )
    narrower = pa.record_batch(
        {"name": pa.array(["c"], pa.large_string()), "id": pa.array([3], pa.int32()), "maybe": pa.nulls(1)}
    ).replace_schema_metadata({"source": "piece 2"})
    destination = tmp_path / "cast.parquet"
    write_all(destination, [first, narrower])
    table = pq.read_table(destination)
    assert table.schema.equals(first.schema)
    assert table.to_pydict() == {"id": [1, 2, 3], "name": ["a", "b", "c"], "maybe": [1.0, 2.0, None]}


def test_incompatible_batch_raises_naming_the_column(tmp_path: Path) -> None:
    destination = tmp_path / "bad.parquet"
    bad = BATCHES[1].set_column(2, "level", pa.array(["x"] * 6))
    with pytest.raises(SchemaMismatchError, match=r"column 'level' has type string .* int32"):
        write_all(destination, [BATCHES[0], bad])
    assert not destination.exists()
    assert leftovers(tmp_path) == []

    extra = BATCHES[1].append_column("surprise", pa.array([1] * 6))
    with pytest.raises(SchemaMismatchError, match="unexpected column.*'surprise'"):
        write_all(destination, [BATCHES[0], extra])
    missing = BATCHES[1].drop_columns(["tags"])
    with pytest.raises(SchemaMismatchError, match="missing column.*'tags'"):
        write_all(destination, [BATCHES[0], missing])
    overflow = pa.record_batch({"n": pa.array([2**40], pa.int64())})
    with pytest.raises(SchemaMismatchError, match="column 'n': cannot convert int64 to int32"):
        write_all(destination, [overflow], schema=pa.schema([("n", pa.int32())]))


def test_nulls_in_a_non_nullable_column_are_rejected(tmp_path: Path) -> None:
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    with pytest.raises(SchemaMismatchError, match="column 'id' is declared not nullable"):
        write_all(tmp_path / "x.parquet", [pa.record_batch({"id": [1, None]})], schema=schema)
    assert leftovers(tmp_path) == []
