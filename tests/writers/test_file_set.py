"""writers.file_set: a set is published whole, marker last; a retry leaves only its own files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from upath import UPath

from airflow_provider_logfire.exceptions import DestinationExistsError, LogfireError
from airflow_provider_logfire.writers.file_set import (
    FileSetWriter,
    previous_set_files,
    remove_stale_set_temporaries,
)
from airflow_provider_logfire.writers.formats import resolve_format
from airflow_provider_logfire.writers.layout import SetLayout

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 27, tzinfo=UTC)


def _batch(first_minute: int, rows: int) -> pa.RecordBatch:
    times = [T0 + dt.timedelta(minutes=first_minute + i) for i in range(rows)]
    return pa.RecordBatch.from_pydict(
        {
            "start_timestamp": pa.array(times, pa.timestamp("us", "UTC")),
            "n": list(range(first_minute, first_minute + rows)),
        }
    )


def _writer(root, layout: SetLayout, **options) -> FileSetWriter:
    return FileSetWriter(
        root,
        layout,
        resolve_format("parquet"),
        time_column="start_timestamp",
        row_group_rows=1_000,
        **options,
    )


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_nothing_is_visible_until_commit_and_the_marker_comes_last(tmp_path: Path) -> None:
    layout = SetLayout.of("r-{part}.parquet", partition_by=["hour"], max_rows_per_file=50)
    writer = _writer(tmp_path, layout)
    writer.write_batch(_batch(0, 150))  # 02:30 worth of minutes: hours 00, 01, 02
    assert [p for p in _files(tmp_path) if not p.split("/")[-1].startswith(".")] == []
    result = writer.commit({"sql": "SELECT 1"})
    assert _files(tmp_path) == [
        "_SUCCESS",
        "hour=00/r-00000.parquet",
        "hour=00/r-00001.parquet",
        "hour=01/r-00000.parquet",
        "hour=01/r-00001.parquet",
        "hour=02/r-00000.parquet",
    ]
    manifest = json.loads((tmp_path / "_SUCCESS").read_text())
    assert manifest["sql"] == "SELECT 1" and manifest["rows"] == result.rows == 150
    assert [f["rows"] for f in manifest["files"]] == [50, 10, 50, 10, 30]
    assert manifest["files"][1]["min_timestamp"] == (T0 + dt.timedelta(minutes=50)).isoformat()
    assert pq.read_table(tmp_path / "hour=02" / "r-00000.parquet").column("n").to_pylist() == list(
        range(120, 150)
    )


def test_abort_leaves_nothing_behind(tmp_path: Path) -> None:
    writer = _writer(tmp_path, SetLayout.of("r-{part}.parquet", max_rows_per_file=10))
    writer.write_batch(_batch(0, 35))
    writer.abort()
    assert _files(tmp_path) == []


def test_a_smaller_set_replaces_a_larger_one_entirely(tmp_path: Path) -> None:
    layout = SetLayout.of("r-{part}.parquet", max_rows_per_file=10)
    first = _writer(tmp_path, layout)
    first.write_batch(_batch(0, 45))
    first.commit({})
    (tmp_path / "notes.txt").write_text("not part of the set")
    second = _writer(tmp_path, layout)
    second.write_batch(_batch(0, 15))
    second.commit({})
    assert _files(tmp_path) == ["_SUCCESS", "notes.txt", "r-00000.parquet", "r-00001.parquet"]
    assert previous_set_files(tmp_path, layout) == ["r-00000.parquet", "r-00001.parquet"]


def test_if_exists_skip_and_fail_look_at_the_marker(tmp_path: Path) -> None:
    layout = SetLayout.of("r-{part}.parquet", max_rows_per_file=10)
    original = _writer(tmp_path, layout)
    original.write_batch(_batch(0, 5))
    original.commit({"which": "original"})
    skip = _writer(tmp_path, layout, if_exists="skip")
    skip.write_batch(_batch(0, 25))
    assert skip.commit({"which": "new"}).skipped
    fail = _writer(tmp_path, layout, if_exists="fail")
    fail.write_batch(_batch(0, 25))
    with pytest.raises(DestinationExistsError, match="_SUCCESS"):
        fail.commit({"which": "new"})
    assert json.loads((tmp_path / "_SUCCESS").read_text())["which"] == "original"
    assert _files(tmp_path) == ["_SUCCESS", "r-00000.parquet"]


def test_rows_out_of_time_order_cannot_reopen_a_finished_partition_file(tmp_path: Path) -> None:
    writer = _writer(tmp_path, SetLayout.of("r.parquet", partition_by=["hour"]))
    writer.write_batch(_batch(0, 5))
    writer.write_batch(_batch(90, 5))  # hour 01: hour 00's file is finished
    with pytest.raises(LogfireError, match="came after rows of later partitions"):
        writer.write_batch(_batch(10, 5))
    assert _files(tmp_path) == []


def test_stale_temporaries_of_the_set_are_removed_and_nothing_else(tmp_path: Path) -> None:
    layout = SetLayout.of("r-{part}.parquet", partition_by=["hour"])
    (tmp_path / "hour=00").mkdir()
    stale = [
        tmp_path / "hour=00" / ".r-00000.parquet.tmp-0123456789ab",
        tmp_path / "._SUCCESS.tmp-0123456789ab",
    ]
    kept = [
        tmp_path / "hour=00" / ".other.parquet.tmp-0123456789ab",
        tmp_path / "hour=00" / "r-00000.parquet",
    ]
    for path in stale + kept:
        path.write_bytes(b"x")
    removed = remove_stale_set_temporaries(tmp_path, layout)
    assert sorted(removed) == sorted(str(p) for p in stale)
    assert all(p.exists() for p in kept)


def test_a_set_on_an_fsspec_filesystem(tmp_path: Path) -> None:
    root = UPath(f"memory://file-set-test-{tmp_path.name}/day")
    writer = _writer(root, SetLayout.of("r-{part}.parquet", max_rows_per_file=20))
    writer.write_batch(_batch(0, 50))
    result = writer.commit({})
    assert [f.path for f in result.files] == ["r-00000.parquet", "r-00001.parquet", "r-00002.parquet"]
    assert sorted(p.name for p in root.iterdir()) == [
        "_SUCCESS",
        "r-00000.parquet",
        "r-00001.parquet",
        "r-00002.parquet",
    ]
    assert json.loads((root / "_SUCCESS").read_text())["rows"] == 50
