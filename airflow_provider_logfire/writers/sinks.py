"""The byte stream under a format writer: counted, optionally compressed, closed by its owner.

pyarrow writers close the stream they are given; the staged temporary file must instead stay open
until it is fsynced and published. `CountingFile` sits in between: it counts the bytes that reach
the file (the final size, without a stat or HEAD request) and ignores `close()`.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import pyarrow as pa

from airflow_provider_logfire.writers.formats import ResolvedFormat


class CountingFile(io.RawIOBase):
    """A write-only view of `raw` that counts bytes and leaves closing `raw` to its owner."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.bytes_written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        written = self._raw.write(data)
        count = memoryview(data).nbytes if written is None else written
        self.bytes_written += count
        return count

    def flush(self) -> None:
        if not self.closed:
            self._raw.flush()


def open_sink(raw: BinaryIO, resolved: ResolvedFormat) -> tuple[pa.NativeFile, CountingFile]:
    """The stream a format writer writes to, and the counter of bytes that reached `raw`.

    CSV and JSON lines are compressed here, as a whole stream; Parquet and Arrow compress inside
    the file and get the plain stream.
    """
    counter = CountingFile(raw)
    sink: pa.NativeFile = pa.PythonFile(counter, mode="w")
    if resolved.spec.stream_compressed and resolved.compression != "none":
        sink = pa.CompressedOutputStream(sink, resolved.compression)
    return sink, counter
