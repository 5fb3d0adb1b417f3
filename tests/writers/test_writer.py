"""Tests of `writers.writer`: the export's life cycle (commit, abort, if_exists) and its entry points."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.writers import (
    DestinationError,
    DestinationExistsError,
    SchemaMismatchError,
    check_destination,
    open_export,
    resolve_format,
    to_upath_or_path,
)
from airflow_provider_logfire.writers.writer import open_resolved

from .conftest import BATCHES, EXPECTED, SCHEMA, generated_batches, leftovers, read_text, write_all

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]


# --- empty exports -----------------------------------------------------------------------------


def test_empty_batches_and_tables_give_the_schema_without_rows(tmp_path: Path) -> None:
    with open_export(tmp_path / "a.parquet") as export:
        export.write_table(EXPECTED.slice(0, 0))
    assert pq.read_table(tmp_path / "a.parquet").schema.equals(SCHEMA)

    with open_export(tmp_path / "b.parquet") as export:
        export.write_batch(BATCHES[0].slice(0, 0))
    assert pq.read_table(tmp_path / "b.parquet").schema.equals(SCHEMA)


def test_no_batch_and_no_schema_is_still_a_valid_file(tmp_path: Path) -> None:
    with open_export(tmp_path / "nothing.parquet"):
        pass
    assert pq.read_table(tmp_path / "nothing.parquet").num_columns == 0


# --- failures and the writer's states ------------------------------------------------------------


@pytest.mark.skipif(resource is None or not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_disk_full_style_failure_names_the_path_and_cleans_up(tmp_path: Path) -> None:
    """A real write error from the OS (file size limit, EFBIG) in the middle of an export."""
    destination = tmp_path / "records.jsonl"
    destination.write_bytes(b"previous\n")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        with pytest.raises(DestinationError) as caught:
            write_all(destination, generated_batches(20_000), format="jsonl")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert str(destination) in str(caught.value)
    assert "too large" in caught.value.reason.lower()
    assert destination.read_bytes() == b"previous\n"
    assert leftovers(tmp_path) == []


def test_explicit_abort_and_failed_writer_cannot_commit(tmp_path: Path) -> None:
    destination = tmp_path / "records.parquet"
    export = open_export(destination)
    export.write_batch(BATCHES[0])
    export.abort()
    export.abort()  # idempotent
    assert not destination.exists()
    assert leftovers(tmp_path) == []

    export = open_export(destination)
    export.write_batch(BATCHES[0])
    with pytest.raises(SchemaMismatchError):
        export.write_batch(pa.record_batch({"other": [1]}))
    with pytest.raises(RuntimeError, match="failed"):
        export.commit()
    export.abort()
    assert not destination.exists()
    assert leftovers(tmp_path) == []


def test_replace_overwrites_and_result_matches_file(tmp_path: Path) -> None:
    destination = tmp_path / "records.jsonl"
    destination.write_text("old content\n")
    result = write_all(destination, [BATCHES[0]], format="jsonl")
    assert result.rows == 6
    assert len(destination.read_text().splitlines()) == 6
    assert json.loads(json.dumps(result.as_dict())) == result.as_dict()


# --- if_exists -----------------------------------------------------------------------------------


def test_if_exists_fail_and_skip(tmp_path: Path) -> None:
    destination = tmp_path / "records.parquet"
    assert check_destination(destination, "fail") is True
    assert check_destination(destination, "skip") is True
    write_all(destination)
    before = destination.read_bytes()

    assert check_destination(destination, "replace") is True
    assert check_destination(destination, "skip") is False
    with pytest.raises(DestinationExistsError, match="records.parquet: the destination already exists"):
        check_destination(destination, "fail")
    with pytest.raises(DestinationExistsError, match=str(destination)):
        open_export(destination, if_exists="fail")

    result = write_all(destination, [BATCHES[0]], if_exists="skip")
    assert result.skipped
    assert result.rows == 0
    assert destination.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_if_exists_fail_when_the_file_appears_during_the_export(tmp_path: Path, memory_root: str) -> None:
    for destination in (tmp_path / "late.jsonl", f"{memory_root}/late.jsonl"):
        path = to_upath_or_path(destination)
        export = open_export(destination, format="jsonl", if_exists="fail")
        export.write_batch(BATCHES[0])
        path.write_bytes(b"written by someone else\n")
        with pytest.raises(DestinationExistsError):
            export.commit()
        assert path.read_bytes() == b"written by someone else\n"
    assert leftovers(tmp_path) == []


# --- open_resolved: the entry point for options validated once, by the caller ---------------------


def test_open_resolved_writes_the_pre_resolved_format(tmp_path: Path) -> None:
    destination = to_upath_or_path(tmp_path / "records.jsonl.gz")
    with open_resolved(destination, resolve_format("jsonl", "gzip"), if_exists="fail") as export:
        export.write_batch(BATCHES[0])
    assert export.result is not None
    assert (export.result.format, export.result.compression, export.result.rows) == ("jsonl", "gzip", 6)
    assert destination.read_bytes()[:2] == b"\x1f\x8b"  # really gzip
    assert len(read_text(destination).splitlines()) == 6


def test_open_resolved_fails_at_once_on_an_existing_file_when_told_to(
    tmp_path: Path, memory_root: str
) -> None:
    for given in (tmp_path / "records.parquet", f"{memory_root}/records.parquet"):
        destination = to_upath_or_path(given)
        destination.write_bytes(b"the previous export")
        with pytest.raises(DestinationExistsError, match="records.parquet: the destination already exists"):
            open_resolved(destination, resolve_format(), if_exists="fail")
        assert destination.read_bytes() == b"the previous export"
        assert [p.name for p in destination.parent.iterdir()] == ["records.parquet"]  # no temporary file


@pytest.mark.parametrize("row_group_rows", [0, -1])
def test_open_resolved_rejects_row_groups_below_one_row(tmp_path: Path, row_group_rows: int) -> None:
    for format in ("parquet", "csv"):  # checked up front, whatever the format
        with pytest.raises(ValueError, match=f"row_group_rows must be at least 1, not {row_group_rows}"):
            open_resolved(
                tmp_path / "out" / f"records.{format}", resolve_format(format), row_group_rows=row_group_rows
            )
    assert os.listdir(tmp_path) == []  # rejected before any directory or temporary file exists
    with pytest.raises(ValueError, match="row_group_rows must be at least 1"):
        open_export(tmp_path / "records.parquet", row_group_rows=row_group_rows)
