"""Decoding streamed bodies as the bytes arrive, and refusing bodies that stop early.

A cut connection can look like a clean, short result: an Arrow stream that ends between two
batches, or NDJSON without its `end` line. Both are reported as incomplete, never returned as
data, because an exporter that took them for complete would silently lose rows.

Each format has one push decoder (`feed(chunk)` returns what the chunk completed, `finish()`
checks that the body ended properly), so the sync and async clients share every decision and
differ only in how they obtain chunks: `decode_stream` and `adecode_stream` are the two loops.
"""

from __future__ import annotations

import io
import json
import struct
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from airflow_provider_logfire.exceptions import (
    LogfireDecodeError,
    LogfireIncompleteResponseError,
    LogfireQueryError,
)

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class StreamDecoder(Protocol[T_co]):
    """Turns body chunks into items as they complete; `finish()` raises if the body was cut."""

    def feed(self, chunk: bytes) -> list[T_co]: ...

    def finish(self) -> list[T_co]: ...


def decode_stream(chunks: Iterable[bytes], decoder: StreamDecoder[T]) -> Iterator[T]:
    """Items of a streamed body, yielded as soon as their bytes have arrived."""
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.finish()


async def adecode_stream(chunks: AsyncIterable[bytes], decoder: StreamDecoder[T]) -> AsyncIterator[T]:
    """`decode_stream` for an async body.

    A body given as an async generator is closed here when decoding stops early (a decoder
    error, a consumer that stops): left to the garbage collector, its `aclose()` would be
    scheduled on an event loop that may already be gone.
    """
    try:
        async for chunk in chunks:
            for item in decoder.feed(chunk):
                yield item
        for item in decoder.finish():
            yield item
    finally:
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()


# ---------------------------------------------------------------------------------------------
# Arrow IPC streams
# ---------------------------------------------------------------------------------------------

#: Marks the start of each message in the IPC format since Arrow 0.15 (older streams omit it).
_CONTINUATION = 0xFFFFFFFF
#: A message's metadata is a small flatbuffer; a larger length means the body is not Arrow.
_MAX_METADATA = 16 * 1024 * 1024
#: `MessageHeader` union tags in Arrow's Message.fbs.
_SCHEMA, _DICTIONARY_BATCH, _RECORD_BATCH = 1, 2, 3


class ArrowStreamDecoder:
    """Incremental decoder of an Arrow IPC stream: feed it chunks, it returns record batches.

    It frames the stream's messages itself (prefix, metadata length, flatbuffer metadata, then a
    body whose length the metadata names) and hands pyarrow's reader only whole messages, so the
    reader never waits on the network and the same decoder serves sync and async clients. The
    schema is kept (`schema`), so an empty result still has its columns.
    """

    def __init__(self) -> None:
        self._received: deque[memoryview] = deque()  # bytes not yet framed into messages
        self._available = 0
        self._needed = 4  # bytes that must be available before framing can go on
        self._messages = _MessageQueue()
        self._reader: Any = None
        self.schema: pa.Schema | None = None
        self.bytes_read = 0
        self.ended = False

    def feed(self, chunk: bytes) -> list[pa.RecordBatch]:
        self.bytes_read += len(chunk)
        if self.ended or not chunk:  # anything after the end-of-stream marker is not part of the result
            return []
        self._received.append(memoryview(chunk))
        self._available += len(chunk)
        batches = []
        while self._available >= self._needed and (kind := self._next_message()) is not None:
            batch = self._decode(kind)
            if batch is not None:
                batches.append(batch)
        return batches

    def finish(self) -> list[pa.RecordBatch]:
        if self.ended:
            return []
        if self.schema is None:
            raise LogfireIncompleteResponseError(
                f"The Arrow stream ended before its schema, after {self.bytes_read:,} bytes"
            )
        raise LogfireIncompleteResponseError(
            f"The Arrow stream stopped after {self.bytes_read:,} bytes without its end-of-stream "
            "marker: the connection was probably cut, so the result may be incomplete"
        )

    def _next_message(self) -> int | None:
        """Move the next whole message to the reader's queue and return its header type.

        None when more bytes are needed first (and `_needed` then says how many), or at the end.
        The body is handed over as the received chunks themselves: it is copied only once, into
        pyarrow's buffers.
        """
        head = self._peek(8)
        (first,) = struct.unpack_from("<I", head)
        prefix = 8 if first == _CONTINUATION else 4
        if len(head) < prefix:
            self._needed = prefix
            return None
        (length,) = struct.unpack_from("<i", head, prefix - 4)
        if length == 0:
            if self.schema is None:
                raise self._not_arrow("its end-of-stream marker comes before any schema")
            self.ended = True
            self._received.clear()
            return None
        if not 0 < length <= _MAX_METADATA:
            raise self._not_arrow(f"a message announces {length:,} bytes of metadata")
        if self._available < prefix + length:
            self._needed = prefix + length
            return None
        kind, body_length = _message_header(self._peek(prefix + length), prefix, length)
        if kind is None:
            raise self._not_arrow("a message's metadata is not an Arrow flatbuffer")
        total = prefix + length + body_length
        if self._available < total:
            self._needed = total
            return None
        self._messages.extend(self._take(total))
        self._needed = 4
        return kind

    def _peek(self, size: int) -> bytes:
        """Up to `size` bytes from the start of what was received, contiguous (for headers)."""
        out = bytearray()
        for chunk in self._received:
            out += chunk[: size - len(out)]
            if len(out) >= size:
                break
        return bytes(out)

    def _take(self, size: int) -> list[memoryview]:
        """The first `size` received bytes as chunk views, removed from what was received."""
        pieces = []
        self._available -= size
        while size:
            chunk = self._received[0]
            if len(chunk) <= size:
                pieces.append(self._received.popleft())
                size -= len(chunk)
            else:
                pieces.append(chunk[:size])
                self._received[0] = chunk[size:]
                size = 0
        return pieces

    def _decode(self, kind: int) -> pa.RecordBatch | None:
        """Let pyarrow's reader take the message just queued (and any dictionaries before it)."""
        import pyarrow as pa
        import pyarrow.ipc

        if self._reader is None and kind != _SCHEMA:
            raise self._not_arrow("it does not start with a schema")
        try:
            if kind == _SCHEMA:
                if self._reader is not None:
                    raise self._not_arrow("it holds a second schema")
                self._reader = pyarrow.ipc.open_stream(self._messages)
                self.schema = self._reader.schema
            elif kind == _RECORD_BATCH:
                # The reader consumes any dictionary batches queued before this record batch.
                return self._reader.read_next_batch()
            elif kind != _DICTIONARY_BATCH:
                raise self._not_arrow(f"it holds a message of type {kind}, not a schema or a batch")
        except (pa.ArrowException, OSError, StopIteration) as exc:
            raise self._not_arrow(f"{type(exc).__name__}: {exc}") from exc
        return None

    def _not_arrow(self, why: str) -> LogfireDecodeError:
        return LogfireDecodeError(
            f"Logfire sent a body that is not a valid Arrow IPC stream ({why}, "
            f"after {self.bytes_read:,} bytes)"
        )


def _message_header(buffer: bytes, start: int, length: int) -> tuple[int | None, int]:
    """(header type, body length) from a message's flatbuffer metadata; (None, 0) if malformed.

    A flatbuffer starts with the offset of its root table (here `Message`); the table starts with
    the signed distance back to its vtable, whose slots give each field's offset in the table.
    `Message`'s fields are version (0), header_type (1), header (2), bodyLength (3).
    """
    end = start + length
    try:
        table = start + struct.unpack_from("<I", buffer, start)[0]
        vtable = table - struct.unpack_from("<i", buffer, table)[0]
        (vtable_size,) = struct.unpack_from("<H", buffer, vtable)
        if not (start <= vtable < end and start <= table < end):
            return None, 0

        def field_offset(index: int) -> int:
            slot = 4 + 2 * index
            return struct.unpack_from("<H", buffer, vtable + slot)[0] if slot + 2 <= vtable_size else 0

        kind_at, body_at = field_offset(1), field_offset(3)
        kind = buffer[table + kind_at] if kind_at else 0
        (body_length,) = struct.unpack_from("<q", buffer, table + body_at) if body_at else (0,)
    except (struct.error, IndexError):
        return None, 0
    if body_length < 0 or max(table + kind_at, table + body_at) >= end:
        return None, 0
    return kind, body_length


class _MessageQueue(io.RawIOBase):
    """A read-only file over whole messages, from which pyarrow's stream reader takes them.

    pyarrow's reader asks for each piece of a message (prefix, metadata, body) with `read(n)`
    and keeps the object it gets as the batch's buffers. So `read` copies the received bytes
    once, into a new `bytes` (whose data is aligned as Arrow's buffers must be, which a slice
    of a received chunk is not); `RawIOBase.read` would copy them twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: deque[memoryview] = deque()

    def extend(self, pieces: Iterable[memoryview]) -> None:
        self._chunks.extend(pieces)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = sum(len(chunk) for chunk in self._chunks)
        pieces = []
        while size and self._chunks:
            chunk = self._chunks.popleft()
            if len(chunk) > size:
                chunk, rest = chunk[:size], chunk[size:]
                self._chunks.appendleft(rest)
            pieces.append(chunk)
            size -= len(chunk)
        return b"".join(pieces)

    def readinto(self, target: Any) -> int:
        data = self.read(len(memoryview(target).cast("B")))
        memoryview(target).cast("B")[: len(data)] = data
        return len(data)


def iter_arrow_batches(chunks: Iterable[bytes]) -> Iterator[pa.RecordBatch]:
    """Yield record batches from an Arrow IPC stream while its bytes still arrive."""
    return decode_stream(chunks, ArrowStreamDecoder())


def read_arrow_table(chunks: Iterable[bytes]) -> pa.Table:
    """A whole Arrow IPC stream as a table (with its schema even when it has no rows)."""
    decoder = ArrowStreamDecoder()
    return arrow_table(list(decode_stream(chunks, decoder)), decoder)


def arrow_table(batches: list[pa.RecordBatch], decoder: ArrowStreamDecoder) -> pa.Table:
    """The decoded batches as one table, typed by the stream's schema."""
    import pyarrow as pa

    return pa.Table.from_batches(batches, schema=decoder.schema)


# ---------------------------------------------------------------------------------------------
# NDJSON (v2)
# ---------------------------------------------------------------------------------------------


class NdjsonDecoder:
    """Incremental decoder of v2's `application/x-ndjson` answer.

    Feed it chunks; it returns complete events. An `error` line raises `LogfireQueryError` (the
    query failed after the 200 was sent); `finish()` raises if the `end` line never came.
    """

    def __init__(self) -> None:
        self._pending = b""
        self.schema: list[dict[str, Any]] | None = None
        self.rows_seen = 0
        self.ended = False

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()
        return [event for line in lines if (event := self._parse(line)) is not None]

    def finish(self) -> list[dict[str, Any]]:
        events = []
        if self._pending.strip():
            event = self._parse(self._pending)
            if event is not None:
                events.append(event)
        self._pending = b""
        if not self.ended:
            raise LogfireIncompleteResponseError(
                f"The NDJSON result stopped after {self.rows_seen:,} rows without its `end` line: "
                "the connection was probably cut, so the result is incomplete"
            )
        return events

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        line = line.strip()
        if not line:
            return None
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise LogfireDecodeError(f"Logfire sent an NDJSON line that is not JSON: {line[:200]!r}") from exc
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == "error":
            message = event.get("message") or event.get("detail") or "unknown error"
            raise LogfireQueryError(
                f"Logfire query failed while streaming results (after {self.rows_seen:,} rows): {message}",
                status_code=200,
                detail=message,
            )
        if kind == "schema":
            self.schema = event.get("fields") or event.get("schema", {}).get("fields") or []
        elif kind == "data":
            self.rows_seen += len(event.get("rows", ()))
        elif kind == "end":
            self.ended = True
            expected = event.get("row_count")
            if isinstance(expected, int) and expected != self.rows_seen:
                raise LogfireIncompleteResponseError(
                    f"The NDJSON result announced {expected:,} rows but carried {self.rows_seen:,}"
                )
        return event


class NdjsonRowDecoder:
    """The rows of v2's NDJSON answer, decoded as they arrive (a `StreamDecoder` of row dicts)."""

    def __init__(self) -> None:
        self.events = NdjsonDecoder()

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        return _rows_of(self.events.feed(chunk))

    def finish(self) -> list[dict[str, Any]]:
        return _rows_of(self.events.finish())


def _rows_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for event in events if event.get("type") == "data" for row in event.get("rows", ())]
