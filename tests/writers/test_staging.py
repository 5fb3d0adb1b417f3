"""Tests of `writers.staging`: data goes to a temporary sibling and appears at the destination whole."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from upath import UPath

from airflow_provider_logfire.writers import DestinationError, destination_exists, file_suffix, open_export
from airflow_provider_logfire.writers.staging import remove_stale_temporaries, temp_name

from .conftest import EXPECTED, SCHEMA, expected_jsonl_records, leftovers, make_batch, write_all

# --- atomicity ---------------------------------------------------------------------------------


class Boom(Exception):
    pass


def fail_after_two_batches(destination, format: str, while_writing) -> None:
    """Write two batches, let `while_writing` inspect the export in progress, then raise `Boom`."""
    with open_export(destination, format=format) as export:
        export.write_batch(make_batch(1000))
        export.write_batch(make_batch(2000))
        while_writing(export)
        raise Boom


@pytest.mark.parametrize("format", ["parquet", "csv", "jsonl", "arrow"])
def test_failure_mid_export_keeps_previous_file_and_leaves_no_temp(tmp_path: Path, format) -> None:
    destination = tmp_path / f"records{file_suffix(format)}"
    write_all(destination, format=format)
    before = destination.read_bytes()
    seen: list[Path] = []

    def while_writing(export) -> None:
        # The data goes to a hidden sibling; the destination is untouched until commit.
        temp = Path(export.temp_path)
        assert temp.parent == destination.parent
        assert temp.name.startswith(f".{destination.name}.tmp-")
        assert temp.exists()
        assert destination.read_bytes() == before
        seen.append(temp)

    with pytest.raises(Boom):
        fail_after_two_batches(destination, format, while_writing)

    assert len(seen) == 1
    assert not seen[0].exists()
    assert destination.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failure_on_memory_filesystem_keeps_previous_object(memory_root: str) -> None:
    destination = UPath(f"{memory_root}/date=2026-11-27/records.parquet")
    write_all(destination)
    before = destination.read_bytes()

    def while_writing(export) -> None:
        assert UPath(export.temp_path).exists()
        assert destination.read_bytes() == before

    with pytest.raises(Boom):
        fail_after_two_batches(destination, "parquet", while_writing)

    assert destination.read_bytes() == before
    assert [p.name for p in destination.parent.iterdir()] == ["records.parquet"]


# --- memory filesystem (object storage stand-in) -----------------------------------------------


@pytest.mark.parametrize("format", ["parquet", "jsonl", "csv", "arrow"])
def test_memory_filesystem_round_trip(memory_root: str, format) -> None:
    url = f"{memory_root}/logfire/date=2026-11-27/records{file_suffix(format)}"
    result = write_all(url, format=format)
    assert result.path == url
    fs = fsspec.filesystem("memory")
    data = fs.cat_file(url.removeprefix("memory://"))
    assert len(data) == result.bytes
    if format == "parquet":
        assert pq.read_table(io.BytesIO(data)).equals(EXPECTED)
    elif format == "arrow":
        assert pa.ipc.open_file(pa.BufferReader(data)).read_all().equals(EXPECTED)
    elif format == "jsonl":
        assert [json.loads(line) for line in data.decode().splitlines()] == expected_jsonl_records()
    else:
        assert data.decode().splitlines()[0] == ",".join(f'"{name}"' for name in SCHEMA.names)
    assert destination_exists(url)
    siblings = fs.ls(url.rsplit("/", 1)[0].removeprefix("memory://"), detail=False)
    assert [name.rsplit("/", 1)[-1] for name in siblings] == [f"records{file_suffix(format)}"]


# --- where the temporary file can be created ------------------------------------------------------


def test_unwritable_destinations_name_the_path_and_reason(tmp_path: Path, memory_root: str) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("I am a file")
    destination = blocker / "sub" / "records.parquet"
    with pytest.raises(DestinationError) as caught:
        open_export(destination)
    message = str(caught.value)
    assert str(destination) in message
    assert "cannot create directory" in message
    assert "directory" in caught.value.reason.lower()
    assert isinstance(caught.value, OSError)

    directory = tmp_path / "a-directory.parquet"
    directory.mkdir()
    with pytest.raises(DestinationError, match=r"a-directory\.parquet: it is a directory"):
        open_export(directory)

    fs = fsspec.filesystem("memory")
    fs.pipe(f"{memory_root.removeprefix('memory://')}/blocker", b"file")
    with pytest.raises(DestinationError, match=f"{memory_root}/blocker/records.parquet"):
        open_export(f"{memory_root}/blocker/records.parquet")


def test_parent_directories_are_created(tmp_path: Path) -> None:
    destination = tmp_path / "a" / "b" / "date=2026-11-27" / "records.csv"
    write_all(destination, format="csv")
    assert destination.is_file()


# --- temporary names and what a killed export leaves behind --------------------------------------


def test_temp_names_are_hidden_unique_siblings() -> None:
    names = {temp_name("records.parquet") for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"\.records\.parquet\.tmp-[0-9a-f]{12}", name) for name in names)


def test_stale_temporaries_of_this_destination_are_removed_and_nothing_else(tmp_path: Path) -> None:
    destination = tmp_path / "records.parquet"
    stale = [tmp_path / temp_name(destination.name) for _ in range(2)]
    kept = [
        destination,  # the previous export itself
        tmp_path / temp_name("other.parquet"),  # another destination's export
        tmp_path / ".records.parquet.tmp-not-ours",  # not a name staging creates
        tmp_path / ".records.parquet.tmp-ABCDEF123456",  # upper-case hex is not ours either
    ]
    for path in (*stale, *kept):
        path.write_bytes(b"x")

    removed = remove_stale_temporaries(destination)

    assert sorted(removed) == sorted(str(path) for path in stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert remove_stale_temporaries(destination) == []  # nothing left to remove
    assert remove_stale_temporaries(tmp_path / "missing" / "records.parquet") == []


def test_stale_temporaries_are_removed_on_fsspec_filesystems(memory_root: str) -> None:
    destination = UPath(f"{memory_root}/day/records.jsonl")
    stale = destination.with_name(temp_name(destination.name))
    unrelated = destination.with_name("notes.txt")
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half an export")
    unrelated.write_bytes(b"keep me")

    assert remove_stale_temporaries(destination) == [str(stale)]
    assert not stale.exists()
    assert unrelated.read_bytes() == b"keep me"
    assert remove_stale_temporaries(UPath(f"{memory_root}/nowhere/records.jsonl")) == []
