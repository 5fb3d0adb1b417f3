"""Stream record batches into one export file, published only when complete.

    with open_export("s3://bucket/logfire/date=2026-11-27/records.parquet") as export:
        for batch in batches:
            export.write_batch(batch)
    export.result  # ExportResult(path=..., rows=..., bytes=...)

Leaving the `with` block normally commits; an exception aborts (temporary file removed, the
previous destination file untouched) and propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Literal

import pyarrow as pa

from airflow_provider_logfire.exceptions import (
    DestinationError,
    DestinationExistsError,
    ExportStateError,
    LogfireConfigError,
)
from airflow_provider_logfire.writers.encoders import (
    CHUNK_ROWS,
    DEFAULT_ROW_GROUP_ROWS,
    BatchEncoder,
    make_encoder,
)
from airflow_provider_logfire.writers.formats import ResolvedFormat, resolve_format
from airflow_provider_logfire.writers.paths import (
    Destination,
    Target,
    destination_exists,
    display_path,
    to_upath_or_path,
)
from airflow_provider_logfire.writers.policies import IfExists, check_if_exists
from airflow_provider_logfire.writers.schema import conform_batch
from airflow_provider_logfire.writers.sinks import open_sink
from airflow_provider_logfire.writers.staging import StagedFile, stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """What an export produced; small and JSON-friendly, so it can be returned as XCom."""

    path: str
    format: str
    compression: str
    rows: int
    bytes: int
    #: True when the destination already existed and `if_exists="skip"` kept it: nothing was written.
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_destination(destination: Target, if_exists: IfExists = "replace") -> bool:
    """Decide, before fetching anything, whether an export to `destination` should run.

    `destination` is already normalised (`to_upath_or_path`) and `if_exists` already checked
    (`check_if_exists`): callers do both once per export. Returns True to go ahead, False when
    `if_exists="skip"` and the destination exists; raises `DestinationExistsError` when
    `if_exists="fail"` and it exists.
    """
    if if_exists == "replace" or not destination_exists(destination):
        return True
    if if_exists == "fail":
        raise DestinationExistsError(display_path(destination))
    return False


class ExportWriter:
    """One export in progress. Create it with `open_export`; not thread-safe.

    States: open → (completed →) committed, or → aborted. A writer whose `write_batch` raised can
    only be aborted, so a half-written export is never published.
    """

    def __init__(
        self,
        staged: StagedFile,
        resolved: ResolvedFormat,
        *,
        schema: pa.Schema | None,
        if_exists: IfExists,
        row_group_rows: int,
    ) -> None:
        self._staged = staged
        self._resolved = resolved
        self._if_exists = if_exists
        self._row_group_rows = row_group_rows
        self._schema = schema
        self._encoder: BatchEncoder | None = None
        self._rows = 0
        self._state: Literal["open", "failed", "completed", "committed", "aborted"] = "open"
        self.result: ExportResult | None = None
        raw = staged.open()
        try:
            self._sink, self._counter = open_sink(raw, resolved)
            if schema is not None:
                self._start(schema)
        except BaseException:
            staged.discard()
            raise

    @property
    def path(self) -> str:
        """The destination (credentials scrubbed)."""
        return self._staged.path

    @property
    def temp_path(self) -> str:
        """The temporary sibling being written."""
        return self._staged.temp_path

    @property
    def schema(self) -> pa.Schema | None:
        """The export's schema: the explicit one, else the first batch's; None before any batch."""
        return self._schema

    @property
    def rows(self) -> int:
        """Rows written so far."""
        return self._rows

    @property
    def bytes_written(self) -> int:
        """Bytes that reached the file so far (its size, once complete)."""
        return self._counter.bytes_written

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Append one batch; its schema must fit the export's (see `schema.conform_batch`)."""
        self._require_open()
        self._guarded(self._write, batch)

    def write_table(self, table: pa.Table) -> None:
        """Append a table, batch by batch (never concatenated in memory)."""
        for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
            self.write_batch(batch)
        if table.num_rows == 0 and self._schema is None:
            self._require_open()
            self._guarded(self._start, table.schema)

    def commit(self) -> ExportResult:
        """Finish the file and publish it at the destination; on failure, abort and re-raise."""
        self.complete()
        return self.publish()

    def complete(self) -> None:
        """Finish the file at its temporary path (footer written, bytes durable), still invisible.

        A file set completes all its files before it publishes any of them.
        """
        self._require_open()
        try:
            if self._encoder is None:
                # No batch and no schema: a valid file without columns.
                self._start(self._schema if self._schema is not None else pa.schema([]))
            assert self._encoder is not None
            self._encoder.finish()
            self._encoder = None  # finished: nothing of the export's batches stays referenced
            self._sink.close()
            self._staged.complete()
        except BaseException as error:
            self._discard()
            self._state = "aborted"
            _raise_as_destination_error(self.path, error)
            raise
        self._state = "completed"

    def publish(self) -> ExportResult:
        """Move the completed file into place (see `if_exists`); on failure, abort and re-raise."""
        if self._state != "completed":
            raise ExportStateError(f"export to {self.path} must be completed before it is published")
        try:
            published = self._staged.publish(overwrite=self._if_exists == "replace")
        except BaseException as error:
            self._discard()
            self._state = "aborted"
            _raise_as_destination_error(self.path, error)
            raise
        if not published and self._if_exists == "fail":
            self._state = "aborted"
            raise DestinationExistsError(self.path)
        self._state = "committed"
        if published:
            self.result = self._result(rows=self._rows, size=self._counter.bytes_written, skipped=False)
            log.info("Exported %d rows (%d bytes) to %s", self._rows, self.result.bytes, self.path)
        else:
            self.result = self._result(rows=0, size=0, skipped=True)
            log.info("Kept existing %s (if_exists='skip'); the new export was discarded", self.path)
        return self.result

    def abort(self) -> None:
        """Drop the export: remove the temporary file, keep any previous destination file. Idempotent."""
        if self._state in ("committed", "aborted"):
            return
        self._discard()
        self._state = "aborted"

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def __repr__(self) -> str:
        return (
            f"ExportWriter(path={self.path!r}, format={self._resolved.name!r}, "
            f"compression={self._resolved.compression!r}, rows={self._rows}, state={self._state!r})"
        )

    def _result(self, *, rows: int, size: int, skipped: bool) -> ExportResult:
        return ExportResult(
            path=self.path,
            format=self._resolved.name,
            compression=self._resolved.compression,
            rows=rows,
            bytes=size,
            skipped=skipped,
        )

    def _start(self, schema: pa.Schema) -> None:
        self._schema = schema
        self._encoder = make_encoder(self._resolved, self._sink, schema, row_group_rows=self._row_group_rows)

    def _write(self, batch: pa.RecordBatch) -> None:
        if self._encoder is None:
            self._start(batch.schema)
        assert self._schema is not None
        assert self._encoder is not None
        conformed = conform_batch(batch, self._schema)
        self._encoder.write(conformed)
        self._rows += conformed.num_rows

    def _guarded(self, action: Callable[[Any], None], argument: Any) -> None:
        """Run `action`; if it raises, the export can no longer be committed (only aborted)."""
        try:
            action(argument)
        except BaseException as error:
            self._state = "failed"
            _raise_as_destination_error(self.path, error)
            raise

    def _require_open(self) -> None:
        if self._state != "open":
            raise ExportStateError(f"export to {self.path} {_STATE_REASONS[self._state]}")

    def _discard(self) -> None:
        if self._encoder is not None:
            self._encoder.abandon()
        try:
            self._sink.close()
        except Exception as error:  # the stream may be broken: the file is discarded anyway
            log.debug("Ignoring error while closing the stream of %s: %s", self.temp_path, error)
        self._staged.discard()


_STATE_REASONS = {
    "failed": "failed (a write raised): it can only be aborted",
    "completed": "is complete: it can only be published or aborted",
    "committed": "is already committed",
    "aborted": "was aborted",
}


def _raise_as_destination_error(path: str, error: BaseException) -> None:
    """Re-raise an I/O failure (disk full, connection lost) as a `DestinationError` naming the path."""
    if isinstance(error, OSError) and not isinstance(error, DestinationError):
        reason = error.strerror or str(error) or type(error).__name__
        raise DestinationError(path, reason) from error


def open_export(
    destination: Destination,
    *,
    format: str = "parquet",
    compression: str | None = None,
    schema: pa.Schema | None = None,
    if_exists: IfExists = "replace",
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
) -> ExportWriter:
    """Start an export: validate the options and create the temporary file next to `destination`.

    `destination`: a local path, a `file://` URL, any fsspec URL, or a `UPath` (Airflow's
    `ObjectStoragePath`). `compression=None` picks the format's default (snappy for Parquet, none
    otherwise). `schema` fixes the columns up front, so even an export without rows has them.
    `if_exists`: `replace` overwrites; `fail` raises `DestinationExistsError` (now, and again at
    commit if the file appeared meanwhile); `skip` keeps an existing file and discards this export
    at commit: call `check_destination` first to avoid fetching for nothing.
    `row_group_rows`: target Parquet row group size.

    Errors: `ValueError` for unknown options, `DestinationError` (naming the path and the reason)
    when the destination cannot be written.
    """
    return open_resolved(
        to_upath_or_path(destination),
        resolve_format(format, compression),
        schema=schema,
        if_exists=check_if_exists(if_exists),
        row_group_rows=row_group_rows,
    )


def open_resolved(
    destination: Target,
    resolved: ResolvedFormat,
    *,
    schema: pa.Schema | None = None,
    if_exists: IfExists = "replace",
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
) -> ExportWriter:
    """`open_export` for a destination, format and policy that the caller has already normalised
    and validated, so that one export checks each of them once."""
    if row_group_rows < 1:
        raise LogfireConfigError(f"row_group_rows must be at least 1, not {row_group_rows}")
    if if_exists == "fail" and destination_exists(destination):
        raise DestinationExistsError(display_path(destination))
    return ExportWriter(
        stage(destination), resolved, schema=schema, if_exists=if_exists, row_group_rows=row_group_rows
    )
