"""Streamed bodies: decoded as they arrive, and refused when they stop early."""

from __future__ import annotations

import asyncio
import json

import pyarrow as pa
import pyarrow.ipc
import pytest

from airflow_provider_logfire.client.streams import (
    ArrowStreamDecoder,
    NdjsonDecoder,
    NdjsonRowDecoder,
    adecode_stream,
    decode_stream,
    iter_arrow_batches,
    read_arrow_table,
)
from airflow_provider_logfire.exceptions import (
    LogfireDecodeError,
    LogfireIncompleteResponseError,
    LogfireQueryError,
)


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


@pytest.mark.parametrize("size", [1, 13, 4099, 1 << 24])
def test_decoded_buffers_are_aligned_whatever_the_chunking(size):
    """Arrow wants each buffer 8-byte aligned; a slice of a received chunk starts anywhere
    (chunks of 4,099 bytes hold whole batches at offsets that are not multiples of 8)."""
    data, _ = _stream(20)
    batches = list(iter_arrow_batches(_chunked(data, size)))
    misaligned = [
        (column.type, buffer.address % 8)
        for batch in batches
        for column in batch.columns
        for buffer in column.buffers()
        if buffer is not None and buffer.address % 8
    ]
    assert misaligned == []
    assert pa.Table.from_batches(batches)["n"].to_pylist() == list(range(2000))


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


def test_each_batch_is_returned_by_the_chunk_that_completes_it():
    data, ends = _stream(3)
    decoder = ArrowStreamDecoder()
    assert decoder.feed(data[: ends[0] - 1]) == [] and decoder.schema is not None
    (first,) = decoder.feed(data[ends[0] - 1 : ends[0]])
    assert first["n"].to_pylist() == list(range(100))
    assert [b.num_rows for b in decoder.feed(data[ends[0] :])] == [100, 100]
    assert decoder.ended and decoder.finish() == []


def _dictionary_stream(*, legacy: bool = False) -> bytes:
    """Dictionary-encoded strings with a delta per batch, as an Arrow writer may send them."""
    kind = pa.dictionary(pa.int32(), pa.string())
    schema = pa.schema([("n", pa.int64()), ("route", kind)])
    options = pyarrow.ipc.IpcWriteOptions(emit_dictionary_deltas=True, use_legacy_format=legacy)
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, schema, options=options) as writer:
        for b in range(3):
            routes = pa.array([f"/r{b}/{i % 3}" for i in range(6)]).dictionary_encode().cast(kind)
            writer.write_batch(pa.record_batch([pa.array(range(6)), routes], schema=schema))
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "pre-0.15 framing"])
@pytest.mark.parametrize("size", [1, 5, 64, 100_000])
def test_dictionaries_and_deltas_decode_from_any_chunking(legacy, size):
    data = _dictionary_stream(legacy=legacy)
    batches = list(iter_arrow_batches(_chunked(data, size)))
    assert pa.Table.from_batches(batches).equals(pyarrow.ipc.open_stream(data).read_all())
    assert batches[2]["route"].to_pylist()[:2] == ["/r2/0", "/r2/1"]


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"detail": "nope"}',
        b"\xff\xff\xff\xff\x10\x00\x00\x00" + bytes(16),
        b"\xff\xff\xff\xff" + bytes(4),
    ],
    ids=["html", "json", "empty flatbuffer", "end before schema"],
)
def test_a_body_that_is_not_arrow_is_a_decode_error(body):
    with pytest.raises(LogfireDecodeError, match="not a valid Arrow IPC stream") as info:
        read_arrow_table([body])
    assert not isinstance(info.value, LogfireIncompleteResponseError), "not retried as a cut body"


def test_empty_body_and_cut_schema_are_incomplete():
    data, _ = _stream(1)
    for body in (b"", data[:30]):
        with pytest.raises(LogfireIncompleteResponseError, match="before its schema"):
            read_arrow_table([body])


def test_bytes_after_the_end_of_stream_marker_are_ignored():
    data, _ = _stream(2)
    assert read_arrow_table([data + b"trailing garbage"]).num_rows == 200


def test_async_decoding_matches_sync():
    data, _ = _stream(3)

    async def chunks():
        for chunk in _chunked(data, 11):
            yield chunk

    async def collect():
        return [b async for b in adecode_stream(chunks(), ArrowStreamDecoder())]

    assert asyncio.run(collect()) == list(decode_stream(_chunked(data, 11), ArrowStreamDecoder()))


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


def test_ndjson_rows_across_chunks_and_events():
    body = _lines(
        {"type": "schema", "fields": [{"name": "a"}]},
        {"type": "data", "rows": [{"a": 1}, {"a": 2}]},
        {"type": "explain", "plan": "..."},
        {"type": "data", "rows": [{"a": 3}]},
        {"type": "end", "row_count": 3},
    )
    rows = list(decode_stream(_chunked(body, 4), NdjsonRowDecoder()))
    assert rows == [{"a": 1}, {"a": 2}, {"a": 3}]
    with pytest.raises(LogfireIncompleteResponseError):
        list(decode_stream([body[: body.index(b'{"type": "end"')]], NdjsonRowDecoder()))
