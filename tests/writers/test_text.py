"""Tests of `writers.text`: the text conventions CSV and JSON lines share, read back independently."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from airflow_provider_logfire.writers import text

from .conftest import EXPECTED, MESSAGES, SCHEMA, UTC, write_all


def jsonl_records(batch: pa.RecordBatch) -> list[dict]:
    """`text.jsonl_rows` parsed back with Python's own JSON reader."""
    rows = text.jsonl_rows(batch)
    assert rows.type == pa.large_string() and rows.null_count == 0
    return [json.loads(row) for row in rows.to_pylist()]


def test_jsonl_writes_unicode_as_utf8_and_nan_as_null(tmp_path: Path) -> None:
    batch = pa.record_batch({"x": [math.nan, math.inf, 1.5, None], "s": ["é", "😀", "a", "b"]})
    destination = tmp_path / "floats.jsonl"
    write_all(destination, [batch], format="jsonl")
    raw = destination.read_bytes()
    assert "😀".encode() in raw  # not \ud83d-escaped
    assert [json.loads(line)["x"] for line in raw.decode().splitlines()] == [None, None, 1.5, None]


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


def test_naive_timestamps_have_no_zone_and_seconds_have_no_fraction() -> None:
    wall = dt.datetime(2026, 11, 27, 8, 30, 15, 250000)
    naive = pa.array([wall, None], pa.timestamp("ms"))
    seconds = pa.array([wall.replace(tzinfo=UTC, microsecond=0)], pa.timestamp("s", "UTC"))
    assert text.iso_timestamps(naive).to_pylist() == ["2026-11-27T08:30:15.250", None]
    assert text.iso_timestamps(seconds).to_pylist() == ["2026-11-27T08:30:15Z"]


def test_durations_are_float_seconds_whatever_the_unit() -> None:
    for unit, ticks in (("s", 90), ("ms", 90_000), ("us", 90_000_000), ("ns", 90_000_000_000)):
        assert text.duration_seconds(pa.array([ticks, None], pa.duration(unit))).to_pylist() == [90.0, None]
    record = jsonl_records(pa.record_batch({"d": pa.array([1_500], pa.duration("ms"))}))
    assert record == [{"d": 1.5}]


def test_every_control_character_is_escaped_as_valid_json() -> None:
    """Python's JSON reader must get back exactly the string written, whatever it holds."""
    nasty = ["".join(chr(code) for code in range(0x20)), 'q"uote\\back/slash', "\x7f\u2028ok", None]
    encoded = text.json_strings(pa.array(nasty))
    assert encoded.to_pylist()[3] is None
    assert [json.loads(value) for value in encoded.to_pylist()[:3]] == nasty[:3]
    # Strings that need no escaping are only quoted.
    assert text.json_strings(pa.array(["plain", "é"])).to_pylist() == ['"plain"', '"é"']


def test_structs_maps_and_binaries_become_json() -> None:
    struct_type = pa.struct([("code", pa.int32()), ("name", pa.string())])
    batch = pa.record_batch(
        {
            "status": pa.array([{"code": 1, "name": "ok"}, None, {"code": None, "name": 'a"b'}], struct_type),
            "labels": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
            "blob": pa.array([b"\x00\xff", None, b""], pa.binary()),
            "flag": pa.array([True, None, False]),
        }
    )
    assert jsonl_records(batch) == [
        {"status": {"code": 1, "name": "ok"}, "labels": {"k": 1}, "blob": "AP8=", "flag": True},
        {"status": None, "labels": {}, "blob": None, "flag": None},
        {"status": {"code": None, "name": 'a"b'}, "labels": None, "blob": "", "flag": False},
    ]
    assert base64.b64decode("AP8=") == b"\x00\xff"
    # In CSV the same nested values are JSON text in one cell; nulls stay empty cells (nulls).
    cells = text.csv_batch(batch)
    assert json.loads(cells.column(0)[0].as_py()) == {"code": 1, "name": "ok"}
    assert cells.column(0)[1].as_py() is None
    assert cells.column(1).to_pylist() == ['{"k":1}', "{}", None]
    assert cells.column(2).to_pylist() == ["AP8=", None, ""]


def test_sliced_batches_encode_only_their_own_rows() -> None:
    """Encoders write batches in slices of `CHUNK_ROWS`: list children must be re-based per slice."""
    batch = pa.record_batch(
        {
            "tags": pa.array([["a"], ["b", "c"], None, ["d"]], pa.list_(pa.string())),
            "labels": pa.array([[("x", 1)], [("y", 2)], [("z", 3)], []], pa.map_(pa.string(), pa.int8())),
        }
    )
    assert jsonl_records(batch.slice(1, 2)) == [
        {"tags": ["b", "c"], "labels": {"y": 2}},
        {"tags": None, "labels": {"z": 3}},
    ]
    assert text.csv_batch(batch.slice(3, 1)).column(0).to_pylist() == ['["d"]']


def test_a_batch_without_columns_gives_empty_objects() -> None:
    empty = pa.RecordBatch.from_struct_array(pa.array([{}, {}], pa.struct([])))
    assert (empty.num_rows, empty.num_columns) == (2, 0)
    assert text.jsonl_rows(empty).to_pylist() == ["{}\n", "{}\n"]
