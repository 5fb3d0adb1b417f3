"""Tests of `writers.encoders`: each format written through a real export and read back."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.writers import ExportResult, file_suffix, open_export

from .conftest import (
    ATTRIBUTES,
    EXPECTED,
    MESSAGES,
    SCHEMA,
    expected_jsonl_records,
    generated_batches,
    iso,
    leftovers,
    read_text,
    write_all,
)

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


# --- streaming and row groups --------------------------------------------------------------------


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
