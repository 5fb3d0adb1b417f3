"""A slice whose list rows are all empty is written as small as its rows, not as its parent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server
from airflow_provider_logfire.writers import open_export
from airflow_provider_logfire.writers.ipc_compact import compact_empty_lists

ROWS = 5_000
TAG = "a-tag-long-enough-to-weigh-" * 2


def _batch(list_type: pa.DataType) -> pa.RecordBatch:
    """Row 0 has no tags, row 1 is NULL, row 2 is `[]` again; every later row has two tags."""
    tags = [[], None, []] + [[TAG, TAG]] * (ROWS - 3)
    return pa.RecordBatch.from_arrays(
        [pa.array(tags, list_type), pa.array(range(ROWS), pa.int64())], names=["tags", "n"]
    )


@pytest.mark.parametrize("list_type", [pa.list_(pa.string()), pa.large_list(pa.string())])
def test_an_all_empty_slice_keeps_its_values_and_loses_its_parents(list_type: pa.DataType) -> None:
    piece = _batch(list_type).slice(0, 3)
    compact = compact_empty_lists(piece)
    assert compact.equals(piece) and compact.schema == piece.schema
    assert compact.column("tags").to_pylist() == [[], None, []]
    # Arrow's writer flaw this works around: the parent's child offsets, 4 bytes per tag or more.
    assert piece.serialize().size > 4 * 2 * (ROWS - 3)
    assert compact.serialize().size < 1_000


def test_a_slice_that_points_at_values_is_handed_on_as_it_is() -> None:
    batch = _batch(pa.list_(pa.string()))
    for piece in (batch, batch.slice(2, 5), batch.slice(100, 3)):
        assert compact_empty_lists(piece) is piece


def test_a_one_row_arrow_answer_is_the_size_of_one_row() -> None:
    start = datetime(2026, 11, 27, tzinfo=timezone.utc)
    rows = _batch(pa.list_(pa.string()))
    times = pa.array([start + timedelta(seconds=i) for i in range(ROWS)], pa.timestamp("us", "UTC"))
    records = pa.table({"start_timestamp": times, "tags": rows.column("tags"), "message": ["m"] * ROWS})
    with LocalEngine() as engine, run_local_server(engine) as server:
        engine.insert_arrow("records", records)
        response = httpx.get(
            f"{server.url}/v1/query",
            params={"sql": "SELECT tags FROM records", "limit": 1, "min_timestamp": start.isoformat()},
            headers={"Authorization": server.token, "Accept": "application/vnd.apache.arrow.stream"},
        )
    response.raise_for_status()
    assert pa.ipc.open_stream(response.content).read_all().column("tags").to_pylist() == [[]]
    assert len(response.content) < 2_000


def test_an_arrow_file_of_an_all_empty_slice_is_small(tmp_path) -> None:
    piece = _batch(pa.list_(pa.string())).slice(0, 3)
    writer = open_export(tmp_path / "records.arrow", format="arrow")
    writer.write_batch(piece)
    result = writer.commit()
    with pa.ipc.open_file(tmp_path / "records.arrow") as reader:
        assert reader.read_all().equals(pa.Table.from_batches([piece]))
    assert result.bytes < 2_000
