"""Streamed bodies: decoded as they arrive, and refused when they stop early."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.ipc
import pytest

from airflow_provider_logfire.client.streams import NdjsonDecoder, iter_arrow_batches, read_arrow_table
from airflow_provider_logfire.exceptions import LogfireIncompleteResponseError, LogfireQueryError


def _stream(batches: int, rows: int = 100) -> tuple[bytes, list[int]]:
    sink = pa.BufferOutputStream()
    schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    ends = []
    with pyarrow.ipc.new_stream(sink, schema) as writer:
        for b in range(batches):
            writer.write_batch(
                pa.record_batch([list(range(b * rows, (b + 1) * rows)), ["x"] * rows], schema=schema)
            )
            ends.append(sink.tell())
    return sink.getvalue().to_pybytes(), ends


def _chunked(data: bytes, size: int = 7):
    return (data[i : i + size] for i in range(0, len(data), size))


def test_batches_decode_from_small_chunks():
    data, _ = _stream(3)
    batches = list(iter_arrow_batches(_chunked(data)))
    assert [b.num_rows for b in batches] == [100, 100, 100]
    assert pa.Table.from_batches(batches)["n"].to_pylist() == list(range(300))


def test_cut_exactly_between_batches_is_incomplete_not_short():
    data, ends = _stream(3)
    with pytest.raises(LogfireIncompleteResponseError, match="end-of-stream"):
        list(iter_arrow_batches(_chunked(data[: ends[1]])))


def test_cut_inside_a_batch_is_incomplete():
    data, ends = _stream(3)
    with pytest.raises(LogfireIncompleteResponseError):
        list(iter_arrow_batches(_chunked(data[: ends[1] + 40])))


def test_empty_result_keeps_schema():
    data, _ = _stream(0)
    table = read_arrow_table([data])
    assert table.num_rows == 0 and table.schema.names == ["n", "s"]


def _lines(*events):
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def test_ndjson_decoder_across_chunk_boundaries():
    body = _lines(
        {"type": "schema", "fields": [{"name": "a"}]},
        {"type": "data", "rows": [{"a": 1}, {"a": 2}]},
        {"type": "end", "row_count": 2},
    )
    decoder = NdjsonDecoder()
    events = [e for chunk in _chunked(body, 5) for e in decoder.feed(chunk)] + decoder.finish()
    assert [e["type"] for e in events] == ["schema", "data", "end"]


def test_ndjson_error_line_raises_with_message():
    body = _lines(
        {"type": "schema", "fields": []},
        {"type": "data", "rows": [{"a": 1}]},
        {"type": "error", "message": "boom"},
    )
    decoder = NdjsonDecoder()
    with pytest.raises(LogfireQueryError, match=r"after 1 rows\): boom"):
        decoder.feed(body)


def test_ndjson_without_end_is_incomplete():
    decoder = NdjsonDecoder()
    decoder.feed(_lines({"type": "schema", "fields": []}, {"type": "data", "rows": [{"a": 1}]}))
    with pytest.raises(LogfireIncompleteResponseError, match="without its `end` line"):
        decoder.finish()
