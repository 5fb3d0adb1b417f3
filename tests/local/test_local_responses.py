from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pyarrow as pa
import pytest

from airflow_provider_logfire.local import responses
from airflow_provider_logfire.local.responses import ARROW, CSV, JSON, NDJSON

V2_OFFERS = (JSON, NDJSON, CSV, ARROW)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json, application/problem+json;q=0.9", JSON),
        ("text/csv, application/problem+json;q=0.9", CSV),
        ("application/vnd.apache.arrow.stream, application/problem+json;q=0.9", ARROW),
        ("application/x-ndjson", NDJSON),
        ("application/json;q=0.4, application/x-ndjson;q=0.5", NDJSON),
        ("text/*", CSV),
        ("text/html, */*;q=0.1", JSON),
        ("application/*;q=0.2, text/csv;q=0", JSON),
        ("TEXT/CSV", CSV),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiate(accept: str | None, chosen: str | None) -> None:
    assert responses.negotiate(accept, V2_OFFERS) == chosen


@pytest.mark.parametrize(
    ("data_type", "v2", "v1"),
    [
        (pa.string(), "Utf8", "Utf8"),
        (pa.bool_(), "Boolean", "Boolean"),
        (pa.int32(), "Int32", "Int32"),
        (pa.int64(), "Int64", "Int64"),
        (pa.float64(), "Float64", "Float64"),
        (pa.date32(), "Date32", "Date32"),
        (
            pa.timestamp("us", "UTC"),
            {"Timestamp": ["Microsecond", "UTC"]},
            {"Timestamp": ["Microsecond", "UTC"]},
        ),
        (pa.timestamp("ns"), {"Timestamp": ["Nanosecond", None]}, {"Timestamp": ["Nanosecond", None]}),
        (pa.decimal128(10, 2), {"Decimal128": [10, 2]}, {"Decimal128": [10, 2]}),
        (
            pa.list_(pa.string()),
            {
                "List": {
                    "name": "item",
                    "data_type": "Utf8",
                    "nullable": True,
                    "dict_id": 0,
                    "dict_is_ordered": False,
                    "metadata": {},
                }
            },
            {"List": {"name": "item", "datatype": "Utf8", "nullable": True}},
        ),
    ],
)
def test_type_names_are_arrow_serde_names(data_type: pa.DataType, v2: object, v1: object) -> None:
    assert responses.data_type_json(data_type) == v2
    assert responses.data_type_json(data_type, v1=True) == v1


def test_nested_fields_use_the_version_key() -> None:
    nested = pa.struct([("bounds", pa.list_(pa.float64()))])
    v2 = json.dumps(responses.data_type_json(nested))
    v1 = json.dumps(responses.data_type_json(nested, v1=True))
    assert '"data_type"' in v2 and '"datatype"' not in v2
    assert '"datatype"' in v1 and '"data_type"' not in v1 and "dict_id" not in v1


def typed_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "ts": pa.array([datetime(2026, 11, 27, tzinfo=timezone.utc), None], pa.timestamp("us", "UTC")),
            "ns": pa.array([1_500, None], pa.timestamp("ns", "Europe/Paris")),
            "day": pa.array([date(2026, 11, 27), None]),
            "ok": pa.array([True, False]),
            "ratio": pa.array([float("nan"), float("inf")]),
            "tags": pa.array([["a", "b"], None], pa.list_(pa.string())),
            "bounds": pa.array([[1.5, float("nan")], []], pa.list_(pa.float64())),
            "attributes": pa.array(['{"a": 1}', None]),
        }
    )


def test_json_values_follow_logfire() -> None:
    rows = responses.json_rows(typed_batch())
    assert rows[0] == {
        "ts": "2026-11-27T00:00:00.000000Z",
        "ns": "1970-01-01T00:00:00.000001Z",
        "day": "2026-11-27",
        "ok": True,
        "ratio": None,
        "tags": ["a", "b"],
        "bounds": [1.5, None],
        "attributes": '{"a": 1}',
    }
    assert rows[1]["ts"] is None and rows[1]["tags"] is None and rows[1]["bounds"] == []


def test_json_values_of_a_sliced_batch() -> None:
    rows = responses.json_rows(typed_batch().slice(1))
    assert len(rows) == 1 and rows[0]["ok"] is False and rows[0]["bounds"] == []


def test_csv_body() -> None:
    batch = typed_batch()
    text = b"".join(responses.csv_stream(batch.schema, [batch, batch.slice(0, 1)])).decode()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == batch.schema.names
    assert table[1][:4] == [
        "2026-11-27T00:00:00.000000Z",
        "1970-01-01T00:00:00.000001Z",
        "2026-11-27",
        "true",
    ]
    assert json.loads(table[1][5]) == ["a", "b"]
    assert table[2][0] == "" and table[2][3] == "false" and table[2][5] == ""
    assert len(table) == 4


def test_csv_of_no_rows_is_the_header_line_alone() -> None:
    schema = typed_batch().schema
    text = b"".join(responses.csv_stream(schema, [])).decode()
    assert text == ",".join(schema.names) + "\n"


def test_csv_quotes_only_fields_that_need_it() -> None:
    batch = pa.record_batch(
        {
            "plain": ["GET /", "a,b", 'say "hi"', "two\nlines", None, ""],
            "tags": pa.array([["tag1", "tag2"], [], None, ["x"], ["a,b"], []]),
            "n": [1, 2, 3, None, 5, 6],
        }
    )
    text = b"".join(responses.csv_stream(batch.schema, [batch])).decode()
    assert text.split("\n")[:3] == ["plain,tags,n", 'GET /,"[""tag1"",""tag2""]",1', '"a,b",[],2']
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        ["GET /", '["tag1","tag2"]', "1"],
        ["a,b", "[]", "2"],
        ['say "hi"', "", "3"],
        ["two\nlines", '["x"]', ""],
        ["", '["a,b"]', "5"],
        ["", "[]", "6"],
    ]


def test_arrow_stream_round_trips_batch_by_batch() -> None:
    batch = typed_batch()
    chunks = list(responses.arrow_stream(batch.schema, [batch, batch]))
    assert len(chunks) >= 3  # schema, then one chunk per batch, then the end marker
    table = pa.ipc.open_stream(b"".join(chunks)).read_all()
    assert table.num_rows == 4 and table.schema == batch.schema


def test_ndjson_turns_a_late_failure_into_an_error_line() -> None:
    batch = typed_batch()

    def failing():
        yield batch
        raise RuntimeError("disk on fire")

    lines = [json.loads(line) for line in b"".join(responses.v2_ndjson(batch.schema, failing())).splitlines()]
    assert [line["type"] for line in lines] == ["schema", "data", "error"]
    assert lines[0]["fields"][0] == {
        "name": "ts",
        "data_type": {"Timestamp": ["Microsecond", "UTC"]},
        "nullable": True,
    }
    assert lines[-1]["message"] == "disk on fire"


def test_v1_column_orientation_gathers_values_per_column() -> None:
    batch = typed_batch()
    body = json.loads(b"".join(responses.v1_json_columns(batch.schema, [batch, batch])))
    ok = next(c for c in body["columns"] if c["name"] == "ok")
    assert ok == {"name": "ok", "datatype": "Boolean", "nullable": True, "values": [True, False, True, False]}
