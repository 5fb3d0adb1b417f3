"""Format writers: record batches in, file bytes out, one batch (or one row group) at a time.

Each encoder is created once the export's schema is known, receives batches that already match
it (see `schema.conform_batch`), and writes the format's footer in `finish()`. None of them keeps
more than the current batch, except Parquet, which gathers batches into row groups of about
`row_group_rows` rows (bounded by `row_group_bytes` too), because many small row groups make
files slow to read.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.writers import text
from airflow_provider_logfire.writers.formats import ResolvedFormat
from airflow_provider_logfire.writers.ipc_compact import compact_empty_lists

DEFAULT_ROW_GROUP_ROWS = 65_536
DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024
#: Rows encoded at once (text conversion, tables split into batches): bounds temporary arrays.
CHUNK_ROWS = 10_000


class BatchEncoder(ABC):
    """Writes batches of one schema to a stream in one format."""

    @abstractmethod
    def write(self, batch: pa.RecordBatch) -> None:
        """Encode one batch (already conformed to the schema)."""

    @abstractmethod
    def finish(self) -> None:
        """Flush buffered rows and write the format's footer. The stream itself stays open."""

    def abandon(self) -> None:
        """Release the format writer without finishing: its bytes are about to be discarded.

        Never raises (it runs while another error unwinds); without it pyarrow's writers would
        try to finish later, on garbage collection, on a closed stream.
        """
        writer: Any = getattr(self, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()


class ParquetEncoder(BatchEncoder):
    """Parquet with row groups of `row_group_rows` rows, written as soon as one is full."""

    def __init__(
        self,
        sink: pa.NativeFile,
        schema: pa.Schema,
        compression: str,
        *,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        row_group_bytes: int = DEFAULT_ROW_GROUP_BYTES,
    ) -> None:
        if row_group_rows < 1:
            raise LogfireConfigError(f"row_group_rows must be at least 1, not {row_group_rows}")
        self._schema = schema
        self._writer = pq.ParquetWriter(sink, schema, compression=compression)
        self._row_group_rows = row_group_rows
        self._row_group_bytes = row_group_bytes
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self._pending_bytes += batch.nbytes
        if self._pending_bytes >= self._row_group_bytes:
            self._flush(everything=True)
        elif self._pending_rows >= self._row_group_rows:
            self._flush(everything=False)

    def _flush(self, *, everything: bool) -> None:
        table = pa.Table.from_batches(self._pending, self._schema)
        full = table.num_rows if everything else table.num_rows - table.num_rows % self._row_group_rows
        self._writer.write_table(table.slice(0, full), row_group_size=self._row_group_rows)
        rest = table.slice(full)
        # An empty slice would still pin the last batch's buffers (and the response they view).
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._pending_bytes = sum(batch.nbytes for batch in self._pending)

    def finish(self) -> None:
        if self._pending_rows:
            self._flush(everything=True)
        self._writer.close()

    def abandon(self) -> None:
        self._pending = []  # no point encoding rows that will be thrown away
        self._pending_rows = 0
        super().abandon()


class ArrowFileEncoder(BatchEncoder):
    """The Arrow IPC *file* format (random access, readable with `pyarrow.ipc.open_file`)."""

    def __init__(self, sink: pa.NativeFile, schema: pa.Schema, compression: str) -> None:
        options = pa.ipc.IpcWriteOptions(compression=None if compression == "none" else compression)
        self._writer = pa.ipc.new_file(sink, schema, options=options)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(compact_empty_lists(batch))  # a file set's slices, cut down

    def finish(self) -> None:
        self._writer.close()


class CsvEncoder(BatchEncoder):
    """CSV with a header row; values as described in `text` (ISO timestamps, JSON for lists)."""

    def __init__(self, sink: pa.NativeFile, schema: pa.Schema) -> None:
        empty = pa.RecordBatch.from_arrays([pa.array([], field.type) for field in schema], schema=schema)
        self._csv_schema = text.csv_batch(empty).schema
        self._writer = pa_csv.CSVWriter(sink, self._csv_schema)  # writes the header now

    def write(self, batch: pa.RecordBatch) -> None:
        for offset in range(0, batch.num_rows, CHUNK_ROWS):
            converted = text.csv_batch(batch.slice(offset, CHUNK_ROWS))
            self._writer.write_batch(converted.cast(self._csv_schema))

    def finish(self) -> None:
        self._writer.close()


class JsonLinesEncoder(BatchEncoder):
    """One JSON object per line, built column-wise and written straight from Arrow's buffer."""

    def __init__(self, sink: pa.NativeFile) -> None:
        self._sink = sink

    def write(self, batch: pa.RecordBatch) -> None:
        for offset in range(0, batch.num_rows, CHUNK_ROWS):
            rows = text.jsonl_rows(batch.slice(offset, CHUNK_ROWS))
            self._sink.write(_contiguous_text(rows))

    def finish(self) -> None:
        self._sink.flush()


def _contiguous_text(strings: pa.Array) -> pa.Buffer:
    """All values of a large_string array without nulls, back to back: a slice of its data buffer.

    Writing it in one call avoids building a Python string per row.
    """
    _, offsets_buffer, data = strings.buffers()
    offsets = pa.Array.from_buffers(
        pa.int64(), len(strings) + 1, [None, offsets_buffer], offset=strings.offset
    )
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return data[start:end]


def make_encoder(
    resolved: ResolvedFormat,
    sink: pa.NativeFile,
    schema: pa.Schema,
    *,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
) -> BatchEncoder:
    """The encoder for a validated format, writing to `sink`."""
    name = resolved.name
    if name == "parquet":
        return ParquetEncoder(sink, schema, resolved.compression, row_group_rows=row_group_rows)
    if name == "arrow":
        return ArrowFileEncoder(sink, schema, resolved.compression)
    if name == "csv":
        return CsvEncoder(sink, schema)
    if name == "jsonl":
        return JsonLinesEncoder(sink)
    raise LogfireConfigError(f"no encoder for format {name!r}")  # unreachable: formats are validated first
