"""Tests of the export writers: real files on disk and on fsspec's memory filesystem, read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from upath import UPath

from airflow_provider_logfire.writers import (
    DestinationError,
    DestinationExistsError,
    ExportResult,
    SchemaMismatchError,
    check_destination,
    destination_exists,
    file_suffix,
    open_export,
    resolve_format,
    to_upath_or_path,
)
from airflow_provider_logfire.writers.paths import display_path

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

UTC = dt.timezone.utc

SCHEMA = pa.schema(
    [
        pa.field("start_timestamp", pa.timestamp("us", "UTC"), nullable=False),
        pa.field("day", pa.date32()),
        pa.field("level", pa.int32()),
        pa.field("message", pa.string()),
        pa.field("attributes", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("histogram", pa.list_(pa.list_(pa.int64()))),
        pa.field("is_exception", pa.bool_()),
        pa.field("duration", pa.float64()),
    ]
)

MESSAGES = [
    "plain",
    'quote " and backslash \\ and comma, here',
    "multi\nline\ttabbed\r\x01control",
    "unicode: héllo wörld — 日本語 😀",
    "",
    None,
]
ATTRIBUTES = [
    '{"http.route": "/items/{id}", "cost": 1.5}',
    '{"nested": {"q": "a\\"b"}}',
    "{}",
    None,
    "[1, 2]",
    "{}",
]
TAGS = [["a", "b"], [], None, ["ünï", None], ['he said "hi"'], ["x"]]
HISTOGRAMS = [[[1, 2], [3]], [], None, [[]], [[4, None]], [[5]]]


def make_batch(start: int, rows: int = 6) -> pa.RecordBatch:
    """A batch covering every case: timestamps, dates, JSON text, lists, nulls, booleans, unicode."""
    base = dt.datetime(2026, 11, 27, tzinfo=UTC)
    return pa.record_batch(
        {
            "start_timestamp": [
                base + dt.timedelta(seconds=start + i, microseconds=123456 + i) for i in range(rows)
            ],
            "day": [dt.date(2026, 11, 27) if i % 3 else None for i in range(rows)],
            "level": [9, 17, None, 13, 1, 21][:rows],
            "message": MESSAGES[:rows],
            "attributes": ATTRIBUTES[:rows],
            "tags": TAGS[:rows],
            "histogram": HISTOGRAMS[:rows],
            "is_exception": [True, False, None, False, True, False][:rows],
            "duration": [0.25, None, 1e-7, 12345.678, 0.0, 3.0][:rows],
        },
        schema=SCHEMA,
    )


BATCHES = [make_batch(0), make_batch(100), make_batch(200)]
EXPECTED = pa.Table.from_batches(BATCHES)


def iso(value: dt.datetime) -> str:
    """Independent reference formatting: Python's own, not pyarrow's."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expected_jsonl_records() -> list[dict]:
    records = []
    for row in EXPECTED.to_pylist():
        row["start_timestamp"] = iso(row["start_timestamp"])
        row["day"] = row["day"].isoformat() if row["day"] else None
        records.append(row)
    return records


def write_all(destination, batches=BATCHES, **options) -> ExportResult:
    with open_export(destination, **options) as export:
        for batch in batches:
            export.write_batch(batch)
    assert export.result is not None
    return export.result


def read_text(path: Path) -> str:
    with pa.input_stream(str(path), compression="detect") as stream:
        return stream.read().decode("utf-8")


def leftovers(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if ".tmp-" in name)


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A private prefix on fsspec's process-wide memory filesystem, removed afterwards."""
    root = f"memory://writers-test-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root.removeprefix("memory://")
    if fs.exists(path):
        fs.rm(path, recursive=True)


# --- Parquet and Arrow: types kept ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("compression", "codec"),
    [
        (None, "SNAPPY"),
        ("snappy", "SNAPPY"),
        ("zstd", "ZSTD"),
        ("gzip", "GZIP"),
        ("lz4", "LZ4"),
        ("brotli", "BROTLI"),
        ("none", "UNCOMPRESSED"),
    ],
)
def test_parquet_round_trip_keeps_values_and_types(tmp_path: Path, compression, codec) -> None:
    destination = tmp_path / "out" / "records.parquet"
    result = write_all(destination, format="parquet", compression=compression)

    table = pq.read_table(destination)
    assert table.schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert table.schema.equals(SCHEMA)
    assert table.equals(EXPECTED)
    metadata = pq.ParquetFile(destination).metadata
    assert metadata.row_group(0).column(0).compression == codec
    assert result == ExportResult(
        path=str(destination),
        format="parquet",
        compression=(compression or "snappy"),
        rows=18,
        bytes=destination.stat().st_size,
    )
    assert leftovers(destination.parent) == []


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_arrow_ipc_file_round_trip(tmp_path: Path, compression) -> None:
    destination = tmp_path / "records.arrow"
    result = write_all(destination, format="arrow", compression=compression)

    with pa.memory_map(str(destination)) as source:
        reader = pa.ipc.open_file(source)
        table = reader.read_all()
    assert reader.num_record_batches == 3
    assert table.equals(EXPECTED)
    assert table.schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert result.compression == (compression or "none")
    assert result.bytes == destination.stat().st_size


def test_arrow_compression_really_compresses(tmp_path: Path) -> None:
    big = pa.record_batch({"message": ["the same message over and over"] * 50_000})
    plain = write_all(tmp_path / "plain.arrow", [big], format="arrow")
    squeezed = write_all(tmp_path / "squeezed.arrow", [big], format="arrow", compression="zstd")
    assert squeezed.bytes < plain.bytes / 5


# --- CSV and JSON lines: text conventions -------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_jsonl_round_trip(tmp_path: Path, compression) -> None:
    destination = tmp_path / f"records{file_suffix('jsonl', compression)}"
    result = write_all(destination, format="jsonl", compression=compression)

    lines = read_text(destination).splitlines()
    records = [json.loads(line) for line in lines]
    assert records == expected_jsonl_records()
    first = records[0]
    assert first["start_timestamp"] == "2026-11-27T00:00:00.123456Z"
    # JSON-text columns stay the exact text: one level of JSON string encoding, never parsed.
    assert first["attributes"] == ATTRIBUTES[0]
    assert isinstance(first["attributes"], str)
    assert records[1]["attributes"] == '{"nested": {"q": "a\\"b"}}'
    # Lists, even nested, are real arrays; nulls inside them survive.
    assert first["histogram"] == [[1, 2], [3]]
    assert records[4]["histogram"] == [[4, None]]
    assert records[3]["tags"] == ["ünï", None]
    assert records[2]["tags"] is None
    assert records[1]["tags"] == []
    assert first["is_exception"] is True
    assert records[2]["is_exception"] is None
    assert records[3]["message"] == MESSAGES[3]
    assert records[2]["message"] == MESSAGES[2]
    assert result.rows == len(records) == 18
    assert result.bytes == destination.stat().st_size


def test_jsonl_writes_unicode_as_utf8_and_nan_as_null(tmp_path: Path) -> None:
    batch = pa.record_batch({"x": [math.nan, math.inf, 1.5, None], "s": ["é", "😀", "a", "b"]})
    destination = tmp_path / "floats.jsonl"
    write_all(destination, [batch], format="jsonl")
    raw = destination.read_bytes()
    assert "😀".encode() in raw  # not \ud83d-escaped
    assert [json.loads(line)["x"] for line in raw.decode().splitlines()] == [None, None, 1.5, None]


def expected_csv_rows() -> list[dict[str, str | None]]:
    """What each cell must read as: None for an empty (null) cell."""
    rows = []
    for row in EXPECTED.to_pylist():
        rows.append(
            {
                "start_timestamp": iso(row["start_timestamp"]),
                "day": row["day"].isoformat() if row["day"] else None,
                "level": None if row["level"] is None else str(row["level"]),
                "message": row["message"],
                "attributes": row["attributes"],
                "tags": None if row["tags"] is None else json.dumps(row["tags"], ensure_ascii=False),
                "histogram": None if row["histogram"] is None else json.dumps(row["histogram"]),
                "is_exception": None if row["is_exception"] is None else str(row["is_exception"]).lower(),
                "duration": row["duration"],
            }
        )
    return rows


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_csv_round_trip(tmp_path: Path, compression) -> None:
    destination = tmp_path / f"records{file_suffix('csv', compression)}"
    result = write_all(destination, format="csv", compression=compression)

    # Read every column as text: empty unquoted cells are nulls, quoted "" is the empty string.
    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in SCHEMA.names},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    with pa.input_stream(str(destination), compression="detect") as stream:
        table = pa_csv.read_csv(stream, convert_options=convert)
    assert table.column_names == SCHEMA.names
    rows = table.to_pylist()
    expected = expected_csv_rows()
    assert len(rows) == len(expected) == result.rows
    for got, want in zip(rows, expected, strict=True):
        duration = got.pop("duration")
        wanted_duration = want.pop("duration")
        assert (duration is None) == (wanted_duration is None)
        if duration is not None:
            assert float(duration) == wanted_duration
        # JSON text in cells parses to the same structure as the input list.
        for column in ("tags", "histogram"):
            if got[column] is not None:
                assert json.loads(got[column]) == json.loads(want[column])
                got[column] = want[column]
        assert got == want
    assert rows[4]["message"] == ""  # empty string is not null
    assert rows[5]["message"] is None


def test_csv_is_standard_csv_with_iso_timestamps(tmp_path: Path) -> None:
    destination = tmp_path / "records.csv"
    write_all(destination, format="csv")
    with destination.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == SCHEMA.names
    assert rows[1][0] == "2026-11-27T00:00:00.123456Z"
    assert rows[1][SCHEMA.names.index("is_exception")] == "true"
    assert rows[3][SCHEMA.names.index("message")] == MESSAGES[2]
    # Typed reading (pyarrow's inference) gets the same instants back.
    typed = pa_csv.read_csv(destination)
    instants = typed.column("start_timestamp").cast(pa.timestamp("us", "UTC"))
    assert instants.equals(EXPECTED.column("start_timestamp"))


def test_timestamps_in_other_zones_and_units_are_written_in_utc(tmp_path: Path) -> None:
    instant = dt.datetime(2026, 11, 27, 1, 0, 0, 500000, tzinfo=UTC)
    batch = pa.record_batch(
        {
            "paris": pa.array([instant], pa.timestamp("us", "UTC")).cast(pa.timestamp("us", "Europe/Paris")),
            "nanos": pa.array([instant], pa.timestamp("ns", "UTC")),
        }
    )
    write_all(tmp_path / "zones.jsonl", [batch], format="jsonl")
    record = json.loads((tmp_path / "zones.jsonl").read_text())
    assert record == {"paris": "2026-11-27T01:00:00.500000Z", "nanos": "2026-11-27T01:00:00.500000000Z"}


# --- empty exports -----------------------------------------------------------------------------


def test_zero_row_exports_still_have_the_schema(tmp_path: Path) -> None:
    for format in ("parquet", "arrow", "csv", "jsonl"):
        destination = tmp_path / f"empty{file_suffix(format)}"
        with open_export(destination, format=format, schema=SCHEMA) as export:
            pass
        assert export.result is not None
        assert export.result.rows == 0
        assert export.result.bytes == destination.stat().st_size

    assert pq.read_table(tmp_path / "empty.parquet").schema.equals(SCHEMA)
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
    assert pa.ipc.open_file(str(tmp_path / "empty.arrow")).read_all().schema.equals(SCHEMA)
    assert (tmp_path / "empty.csv").read_text() == ",".join(f'"{name}"' for name in SCHEMA.names) + "\n"
    assert (tmp_path / "empty.jsonl").read_bytes() == b""


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


# --- schema handling -----------------------------------------------------------------------------


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


# --- options and destinations --------------------------------------------------------------------


def test_unknown_format_and_compression_list_the_choices(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match="unknown export format 'xlsx'; valid formats: parquet, csv, jsonl, arrow"
    ):
        open_export(tmp_path / "x.xlsx", format="xlsx")
    with pytest.raises(ValueError, match="for format 'csv'; valid compressions: none, gzip, zstd"):
        open_export(tmp_path / "x.csv", format="csv", compression="snappy")
    with pytest.raises(ValueError, match="snappy, zstd, gzip, lz4, brotli, none"):
        resolve_format("parquet", "bz2")
    with pytest.raises(ValueError, match="none, lz4, zstd"):
        resolve_format("arrow", "gzip")
    with pytest.raises(ValueError, match="replace, skip, fail"):
        open_export(tmp_path / "x.parquet", if_exists="overwrite")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []  # nothing created before the options are valid
    assert resolve_format("PARQUET", "ZSTD").compression == "zstd"


def test_suffixes() -> None:
    assert file_suffix() == ".parquet"
    assert file_suffix("parquet", "zstd") == ".parquet"
    assert file_suffix("arrow", "lz4") == ".arrow"
    assert file_suffix("csv") == ".csv"
    assert file_suffix("csv", "gzip") == ".csv.gz"
    assert file_suffix("jsonl", "zstd") == ".jsonl.zst"


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


def test_to_upath_or_path() -> None:
    assert to_upath_or_path("/tmp/x/records.parquet") == Path("/tmp/x/records.parquet")
    assert to_upath_or_path("relative/records.parquet") == Path("relative/records.parquet")
    assert to_upath_or_path("file:///tmp/a%20b/records.csv") == Path("/tmp/a b/records.csv")
    assert to_upath_or_path("file://localhost/tmp/x.csv") == Path("/tmp/x.csv")
    assert to_upath_or_path(Path("/tmp/y")) == Path("/tmp/y")
    assert to_upath_or_path(UPath("file:///tmp/z.csv")) == Path("/tmp/z.csv")
    assert type(to_upath_or_path(UPath("file:///tmp/z.csv"))) is type(Path("/tmp"))
    remote = to_upath_or_path("memory://bucket/x.parquet")
    assert isinstance(remote, UPath)
    assert remote.protocol == "memory"
    given = UPath("memory://bucket/y.parquet")
    assert to_upath_or_path(given) is given
    with pytest.raises(ValueError, match="remote host"):
        to_upath_or_path("file://server/share/x.csv")


def test_display_path_hides_credentials() -> None:
    assert display_path("s3://AKIA:very-secret@bucket/x.parquet") == "s3://***@bucket/x.parquet"
    assert "secret" not in display_path("https://user:secret@example.com/x")


# --- streaming and performance -------------------------------------------------------------------


def generated_batches(total_rows: int, batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
    """Batches made on the fly, so the test itself never holds more than one."""
    for start in range(0, total_rows, batch_rows):
        ids = pa.array(range(start, min(start + batch_rows, total_rows)), pa.int64())
        yield pa.record_batch(
            {
                "start_timestamp": pc.multiply(ids, 1_000).cast(pa.timestamp("us", "UTC")),
                "message": pc.binary_join_element_wise("span ", ids.cast(pa.string()), " " + "x" * 150, ""),
                "level": ids,
            }
        )


@pytest.mark.parametrize(("row_group_rows", "max_share"), [(None, 0.75), (20_000, 0.5)])
def test_parquet_streams_with_bounded_memory(tmp_path: Path, row_group_rows, max_share) -> None:
    total_rows = 200_000
    destination = tmp_path / "big.parquet"
    options = {} if row_group_rows is None else {"row_group_rows": row_group_rows}
    baseline = pa.total_allocated_bytes()
    peak = 0
    data_bytes = 0
    with open_export(destination, **options) as export:
        for batch in generated_batches(total_rows):
            data_bytes += batch.nbytes
            export.write_batch(batch)
            del batch
            peak = max(peak, pa.total_allocated_bytes() - baseline)

    metadata = pq.ParquetFile(destination).metadata
    assert metadata.num_rows == export.result.rows == total_rows
    group_rows = row_group_rows or 65_536
    expected_groups = [group_rows] * (total_rows // group_rows) + [total_rows % group_rows]
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [
        rows for rows in expected_groups if rows
    ]
    # Holding the whole export would need at least `data_bytes`; row groups keep it to a fraction.
    assert peak < max_share * data_bytes, (peak, data_bytes)
    assert pa.total_allocated_bytes() - baseline < 0.05 * data_bytes  # nothing kept after commit
    assert pq.read_table(destination, columns=["level"]).column(0).to_pylist()[-3:] == [
        199_997,
        199_998,
        199_999,
    ]
