"""Write an export as a set of files (numbered parts, Hive partitions), published as a unit.

Every file is written to a hidden temporary sibling and completed before any is moved into place;
then the previous set's marker goes, the new files are published, files of an earlier set that
the new one does not have are removed, and `_SUCCESS` is written last, holding the manifest (every
file with its rows, bytes and time range, the schema, and what the caller adds: window, SQL). A
reader that trusts `_SUCCESS` therefore never sees a partial or mixed set, and a retry leaves
exactly one set: its own. See `layout` for how rows are named into files and `partitions` for
how they are split.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from upath import UPath

from airflow_provider_logfire.exceptions import DestinationError, DestinationExistsError, LogfireError
from airflow_provider_logfire.writers.formats import ResolvedFormat
from airflow_provider_logfire.writers.layout import PART, PART_DIGITS, SUCCESS_NAME, SetLayout
from airflow_provider_logfire.writers.partitions import Partition, Partitioner, time_bounds
from airflow_provider_logfire.writers.paths import Target, display_path
from airflow_provider_logfire.writers.policies import IfExists
from airflow_provider_logfire.writers.staging import stage
from airflow_provider_logfire.writers.uploads import abort_stale_uploads
from airflow_provider_logfire.writers.writer import ExportWriter, open_resolved

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetFile:
    """One published file of a set, as the manifest and the XCom summary list it."""

    #: Relative to the set's root, e.g. `hour=00/records-00000.parquet`.
    path: str
    rows: int
    bytes: int
    #: The earliest and latest value of the time column in the file (ISO 8601), if it has one.
    min_timestamp: str | None
    max_timestamp: str | None
    partition: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSetResult:
    """What a committed set holds; `skipped` when `if_exists="skip"` kept an existing set."""

    root: str
    files: tuple[SetFile, ...]
    manifest: str | None
    rows: int
    bytes: int
    skipped: bool = False

    def paths(self) -> tuple[str, ...]:
        """Every file's full path (credentials scrubbed), in the order written."""
        return tuple(f"{self.root.rstrip('/')}/{entry.path}" for entry in self.files)


class _OpenFile:
    """A file of the set being written, with the facts the manifest needs."""

    def __init__(self, writer: ExportWriter, relative: str, partition: Partition, time_key: tuple) -> None:
        self.writer = writer
        self.relative = relative
        self.partition = partition
        self.time_key = time_key
        self.first: datetime | None = None
        self.last: datetime | None = None

    def note_times(self, column: pa.Array) -> None:
        bounds = time_bounds(column)
        if bounds is not None:
            low, high = bounds
            self.first = low if self.first is None else min(self.first, low)
            self.last = high if self.last is None else max(self.last, high)

    def entry(self) -> SetFile:
        return SetFile(
            path=self.relative,
            rows=self.writer.rows,
            bytes=self.writer.bytes_written,
            min_timestamp=self.first.isoformat() if self.first else None,
            max_timestamp=self.last.isoformat() if self.last else None,
            partition=self.partition.as_dict(),
        )


class FileSetWriter:
    """One file-set export in progress: `write_batch` in time order, then `commit` or `abort`."""

    def __init__(
        self,
        root: Target,
        layout: SetLayout,
        resolved: ResolvedFormat,
        *,
        time_column: str,
        if_exists: IfExists = "replace",
        row_group_rows: int,
    ) -> None:
        self._root = root
        self._layout = layout
        self._resolved = resolved
        self._time_column = time_column
        self._if_exists = if_exists
        self._row_group_rows = row_group_rows
        self._partitioner = Partitioner(layout.partition_by, time_column)
        self._input_schema: pa.Schema | None = None
        self._open: dict[str, _OpenFile] = {}
        self._completed: list[_OpenFile] = []
        self._finished_folders: set[str] = set()
        self._next_part: dict[str, int] = {}
        self._state = "open"

    @property
    def root(self) -> str:
        return display_path(self._root)

    @property
    def rows(self) -> int:
        return sum(f.writer.rows for f in (*self._completed, *self._open.values()))

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Route the batch's rows to their files; an empty batch only tells the columns."""
        if self._state != "open":
            raise LogfireError(f"the file set at {self.root} is {self._state}")
        try:
            if self._input_schema is None:
                self._input_schema = batch.schema
            if not batch.num_rows:
                return
            by_time = bool(self._partitioner.time_keys(batch.schema))
            for partition, rows in self._partitioner.split(batch):
                if by_time:
                    # Rows come in time order: once a later time partition starts, the files of
                    # earlier ones get no more rows. Finishing them now keeps one file open.
                    latest = self._time_key(partition)
                    for folder, current in list(self._open.items()):
                        if current.time_key != latest:
                            self._finish(folder)
                self._write_partition(partition, rows)
        except BaseException:
            self.abort()
            raise

    def commit(self, manifest: Mapping[str, Any]) -> FileSetResult:
        """Complete, publish and mark the set; `manifest` entries (window, SQL, ...) are added to it."""
        try:
            if not self._completed and not self._open and not self._layout.partition_by:
                self._create_empty_file()  # a window without rows still gets the query's columns
            for folder in list(self._open):
                self._finish(folder)
            marker = _join(self._root, SUCCESS_NAME)
            if self._if_exists != "replace" and _exists(marker):
                if self._if_exists == "fail":
                    raise DestinationExistsError(display_path(marker))
                self.abort()
                log.info("Kept the existing file set at %s (if_exists='skip'); discarded this one", self.root)
                return FileSetResult(self.root, (), display_path(marker), 0, 0, skipped=True)
            return self._publish(marker, manifest)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop every file of this set that is not yet published. Idempotent; never raises."""
        if self._state in ("aborted", "committed"):
            return
        for current in (*self._completed, *self._open.values()):
            current.writer.abort()
        self._open.clear()
        self._state = "aborted"

    # -- writing ----------------------------------------------------------------------------------

    def _write_partition(self, partition: Partition, rows: pa.RecordBatch) -> None:
        limit = self._layout.max_rows_per_file
        while rows.num_rows:
            current = self._open.get(partition.folder) or self._start(partition, rows.schema)
            room = rows.num_rows if limit is None else limit - current.writer.rows
            chunk, rows = rows.slice(0, room), rows.slice(room)
            current.writer.write_batch(chunk)
            if self._time_column in chunk.schema.names:
                current.note_times(chunk.column(self._time_column))
            if limit is not None and current.writer.rows >= limit:
                self._finish(partition.folder)

    def _start(self, partition: Partition, schema: pa.Schema) -> _OpenFile:
        folder = partition.folder
        if folder in self._finished_folders and PART not in self._layout.name_template:
            raise LogfireError(
                f"rows for partition {folder!r} came after rows of later partitions, and its file is "
                f"finished. Either the rows are not in time order, or the keys repeat within the "
                f"window (partition_by={list(self._layout.partition_by)} over more than one day, say): "
                f"add a coarser key such as 'day', or put {PART} in the file name"
            )
        part = self._next_part.get(folder, 0)
        if part >= 10**PART_DIGITS:
            raise LogfireError(
                f"partition {folder or '(root)'} would need more than {10**PART_DIGITS:,} files"
            )
        self._next_part[folder] = part + 1
        relative = "/".join(p for p in (folder, self._layout.file_name(part)) if p)
        writer = open_resolved(
            _join(self._root, relative),
            self._resolved,
            schema=schema,
            if_exists="replace",
            row_group_rows=self._row_group_rows,
        )
        current = _OpenFile(writer, relative, partition, self._time_key(partition))
        self._open[folder] = current
        return current

    def _finish(self, folder: str) -> None:
        current = self._open.pop(folder)
        current.writer.complete()
        self._completed.append(current)
        self._finished_folders.add(folder)

    def _time_key(self, partition: Partition) -> tuple:
        schema = self._input_schema
        time_keys = set(self._partitioner.time_keys(schema)) if schema is not None else set()
        return tuple(value for key, value in partition.values if key in time_keys)

    def _create_empty_file(self) -> None:
        schema = self._input_schema if self._input_schema is not None else pa.schema([])
        self._start(Partition(()), schema)

    # -- publishing -------------------------------------------------------------------------------

    def _publish(self, marker: Target, manifest: Mapping[str, Any]) -> FileSetResult:
        # Listed in time order (files finish in the order their partitions end, not begin).
        self._completed.sort(key=lambda f: (f.first is None, f.first or datetime.min, f.relative))
        _remove(marker)  # from now until the new marker, readers know the set is incomplete
        for current in self._completed:
            current.writer.publish()
        keep = {current.relative for current in self._completed}
        for stale in previous_set_files(self._root, self._layout):
            if stale not in keep:
                _remove(_join(self._root, stale))
                log.info("Removed %s/%s, left by an earlier export of this set", self.root, stale)
        files = tuple(current.entry() for current in self._completed)
        document = {
            **manifest,
            "format": self._resolved.name,
            "compression": self._resolved.compression,
            "partition_by": list(self._layout.partition_by),
            "rows": sum(f.rows for f in files),
            "bytes": sum(f.bytes for f in files),
            "schema": _schema_fields(self._file_schema()),
            "files": [asdict(f) for f in files],
        }
        _write_marker(marker, document)
        self._state = "committed"
        result = FileSetResult(self.root, files, display_path(marker), document["rows"], document["bytes"])
        log.info("Published %d file(s), %s rows, under %s", len(files), f"{result.rows:,}", self.root)
        return result

    def _file_schema(self) -> pa.Schema:
        if self._completed:
            schema = self._completed[0].writer.schema
            if schema is not None:
                return schema
        schema = self._input_schema if self._input_schema is not None else pa.schema([])
        dropped = self._partitioner.columns_dropped(schema)
        return pa.schema([f for f in schema if f.name not in dropped])


def _schema_fields(schema: pa.Schema) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def _write_marker(marker: Target, document: Mapping[str, Any]) -> None:
    staged = stage(marker)
    raw = staged.open()
    try:
        raw.write(json.dumps(document, indent=2, default=str).encode())
        staged.complete()
        staged.publish(overwrite=True)
    except BaseException:
        staged.discard()
        raise


# -- the set's files on the filesystem -------------------------------------------------------------


def _join(root: Target, relative: str) -> Target:
    return root.joinpath(*relative.split("/"))


def _exists(path: Target) -> bool:
    try:
        return path.exists()
    except OSError as error:
        raise DestinationError(display_path(path), f"cannot check whether it exists: {error}") from error


def _remove(path: Target) -> None:
    try:
        if isinstance(path, UPath):
            if path.fs.exists(path.path):
                path.fs.rm(path.path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise DestinationError(display_path(path), f"cannot remove it: {error}") from error


def _relative_files(root: Target) -> list[str]:
    """Every file under `root`, relative to it with `/` separators; [] if root does not exist."""
    if isinstance(root, UPath):
        base = root.path.rstrip("/")
        try:
            found = root.fs.find(base)
        except FileNotFoundError:
            return []
        return [p[len(base) + 1 :] for p in found if p.startswith(base + "/")]
    if not root.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()]


def _name_pattern(layout: SetLayout) -> str:
    parts = re.escape(layout.name_template).split(re.escape(PART))
    return rf"\d{{{PART_DIGITS}}}".join(parts)


def _folders_pattern(layout: SetLayout) -> str:
    return "".join(rf"{re.escape(key)}=[^/]*/" for key in layout.partition_by)


def previous_set_files(root: Target, layout: SetLayout) -> list[str]:
    """Files under `root` named as this layout names its files (a previous set, or a killed one's)."""
    pattern = re.compile(_folders_pattern(layout) + _name_pattern(layout))
    return sorted(p for p in _relative_files(root) if pattern.fullmatch(p))


def remove_stale_set_temporaries(root: Target, layout: SetLayout) -> list[str]:
    """Delete the temporary files a killed export of this set left under `root`; return them."""
    names = f"(?:{_name_pattern(layout)}|{re.escape(SUCCESS_NAME)})"
    pattern = re.compile(rf"(?:{_folders_pattern(layout)})?\.{names}\.tmp-[0-9a-f]{{12}}")
    removed = []
    if isinstance(root, UPath):
        aborted = abort_stale_uploads(root.fs, root.path, lambda key: pattern.fullmatch(key) is not None)
        removed.extend(f"{key} (an unfinished upload)" for key in aborted)
    for relative in _relative_files(root):
        if pattern.fullmatch(relative):
            path = _join(root, relative)
            try:
                _remove(path)
            except DestinationError as error:
                log.warning("Could not remove stale temporary file %s: %s", display_path(path), error.reason)
            else:
                removed.append(display_path(path))
    return removed


def set_exists(root: Target) -> bool:
    """Whether a complete set (its `_SUCCESS` marker) is at `root`."""
    return _exists(_join(root, SUCCESS_NAME))


def check_set_destination(root: Target, if_exists: IfExists) -> bool:
    """Before fetching: False to skip (`if_exists="skip"` and a set exists), raise for "fail"."""
    if if_exists == "replace" or not set_exists(root):
        return True
    if if_exists == "fail":
        raise DestinationExistsError(display_path(_join(root, SUCCESS_NAME)))
    return False
