"""Decoding streamed bodies as the bytes arrive, and refusing bodies that stop early.

A cut connection can look like a clean, short result: an Arrow stream that ends between two
batches, or NDJSON without its `end` line. Both are reported as incomplete, never returned as
data, because an exporter that took them for complete would silently lose rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire.exceptions import (
    LogfireDecodeError,
    LogfireIncompleteResponseError,
    LogfireQueryError,
)

if TYPE_CHECKING:
    import pyarrow as pa


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for pyarrow's IPC reader.

    Records whether a read ever came up short at the end of the body: a complete Arrow stream
    ends with its end-of-stream marker, after which the reader asks for nothing more.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")
        self.bytes_read = 0
        self.hit_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        filled = 0
        while filled < len(view):
            if not self._buffer:
                chunk = next(self._chunks, None)
                if chunk is None:
                    self.hit_end = True
                    break
                self._buffer = memoryview(chunk)
                continue
            n = min(len(view) - filled, len(self._buffer))
            view[filled : filled + n] = self._buffer[:n]
            self._buffer = self._buffer[n:]
            filled += n
        self.bytes_read += filled
        return filled

    def drain(self) -> int:
        """Consume what is left of the body; returns how many bytes that was."""
        left = len(self._buffer)
        self._buffer = memoryview(b"")
        for chunk in self._chunks:
            left += len(chunk)
        return left


def iter_arrow_batches(chunks: Iterable[bytes]) -> Iterator[pa.RecordBatch]:
    """Yield record batches from an Arrow IPC stream while its bytes still arrive."""
    stream = _schema_then_batches(ChunkReader(chunks))
    next(stream)  # the schema
    yield from stream


def read_arrow_table(chunks: Iterable[bytes]) -> pa.Table:
    """A whole Arrow IPC stream as a table (with its schema even when it has no rows)."""
    import pyarrow as pa

    batches = list(_schema_then_batches(ChunkReader(chunks)))
    schema = batches.pop(0)
    return pa.Table.from_batches(batches, schema=schema)


def _schema_then_batches(source: ChunkReader) -> Iterator[Any]:
    """The schema first, then the batches (so an empty result keeps its columns)."""
    import pyarrow as pa
    import pyarrow.ipc

    try:
        reader = pyarrow.ipc.open_stream(source)
    except pa.ArrowInvalid as exc:
        if source.bytes_read == 0 or source.hit_end:
            raise LogfireIncompleteResponseError(f"The Arrow stream ended before its schema: {exc}") from exc
        raise LogfireDecodeError(f"Logfire sent a body that is not an Arrow IPC stream: {exc}") from exc
    yield reader.schema
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            raise LogfireIncompleteResponseError(
                f"The Arrow stream was cut off after {source.bytes_read:,} bytes: {exc}"
            ) from exc
    if source.hit_end:
        raise LogfireIncompleteResponseError(
            f"The Arrow stream stopped after {source.bytes_read:,} bytes without its end-of-stream "
            "marker: the connection was probably cut, so the result may be incomplete"
        )
    source.drain()


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
