"""Write to a temporary sibling, then publish it at the destination in one step.

Readers of the destination see either the previous file or the complete new one, never a partial
export; a failed or aborted export leaves the previous file untouched and removes its temporary file.

Guarantees by kind of destination:

- Local paths: the temporary file (`.<name>.tmp-<random>`, same directory, so same filesystem) is
  fsynced and moved with `os.replace`, which is atomic on POSIX and Windows. Without overwrite,
  `os.link` publishes it only if the destination does not exist, atomically.
- fsspec filesystems (S3, GCS, Azure, memory, ...): the temporary object is completed (closed) and
  then moved with `fs.mv`. On S3 a large temporary file is a multipart upload until it is
  complete, so nothing, not even the temporary object, is listed before then (see `uploads`). Object stores implement that as copy + delete: the destination object
  still appears all at once (a copy is atomic per object), but a crash between the copy and the
  delete can leave the temporary object behind, and the "does not exist yet" check for
  `if_exists="fail"`/`"skip"` is not atomic with the move.
"""

from __future__ import annotations

import logging
import os
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from upath import UPath

from airflow_provider_logfire.exceptions import DestinationError
from airflow_provider_logfire.writers.paths import display_path
from airflow_provider_logfire.writers.uploads import abandon, abort_stale_uploads, open_for_upload

log = logging.getLogger(__name__)


def temp_name(name: str) -> str:
    """A hidden, unique sibling name: `.records.parquet.tmp-3f9a0c1b2d4e`."""
    return f".{name}.tmp-{secrets.token_hex(6)}"


def is_temp_name(candidate: str, name: str) -> bool:
    """Whether `candidate` is a name `temp_name(name)` gives."""
    prefix = f".{name}.tmp-"
    suffix = candidate[len(prefix) :]
    return candidate.startswith(prefix) and len(suffix) == 12 and all(c in "0123456789abcdef" for c in suffix)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class StagedFile(ABC):
    """A destination being written: `open()` the temporary file, then `publish()` or `discard()`."""

    #: The destination as shown to users (credentials scrubbed).
    path: str
    #: The temporary sibling, as shown to users.
    temp_path: str

    @abstractmethod
    def open(self) -> BinaryIO:
        """Create the parent directories and the temporary file; return it open for writing."""

    @abstractmethod
    def complete(self) -> None:
        """Close the temporary file so that it is whole (fsynced, or its upload finished)."""

    @abstractmethod
    def publish(self, *, overwrite: bool) -> bool:
        """Close the temporary file and move it into place.

        Returns False (and removes the temporary file) when the destination exists and
        `overwrite` is False. On an exception the caller must still call `discard()`.
        """

    @abstractmethod
    def discard(self) -> None:
        """Close and remove the temporary file. Never raises: it runs while another error unwinds."""


class LocalStagedFile(StagedFile):
    """A destination on the local filesystem."""

    def __init__(self, destination: Path) -> None:
        self._destination = destination.absolute()
        self._temp = self._destination.with_name(temp_name(self._destination.name))
        self._file: BinaryIO | None = None
        self.path = display_path(self._destination)
        self.temp_path = display_path(self._temp)

    def open(self) -> BinaryIO:
        if self._destination.is_dir():
            raise DestinationError(self.path, "it is a directory")
        parent = self._destination.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DestinationError(
                self.path, f"cannot create directory {parent}: {_reason(error)}"
            ) from error
        try:
            self._file = open(self._temp, "xb")  # noqa: SIM115 -- closed by publish() or discard()
        except OSError as error:
            raise DestinationError(
                self.path, f"cannot create temporary file {self.temp_path}: {_reason(error)}"
            ) from error
        return self._file

    def complete(self) -> None:
        self._close(durable=True)

    def publish(self, *, overwrite: bool) -> bool:
        self._close(durable=True)
        try:
            if overwrite:
                os.replace(self._temp, self._destination)
            elif not self._link_into_place():
                self.discard()
                return False
        except OSError as error:
            raise DestinationError(
                self.path, f"cannot move the finished file into place: {_reason(error)}"
            ) from error
        _fsync_directory(self._destination.parent)
        return True

    def _link_into_place(self) -> bool:
        """Publish without ever replacing an existing file; False if the destination exists."""
        try:
            os.link(self._temp, self._destination)
        except FileExistsError:
            return False
        except OSError:
            # Hard links unsupported here (some network or FAT filesystems): check, then replace.
            if os.path.lexists(self._destination):
                return False
            os.replace(self._temp, self._destination)
            return True
        os.unlink(self._temp)
        return True

    def discard(self) -> None:
        try:
            self._close(durable=False)
        except OSError as error:
            log.warning("Could not close temporary file %s: %s", self.temp_path, _reason(error))
        try:
            self._temp.unlink(missing_ok=True)
        except OSError as error:
            log.warning("Could not remove temporary file %s: %s", self.temp_path, _reason(error))

    def _close(self, *, durable: bool) -> None:
        file, self._file = self._file, None
        if file is None or file.closed:
            return
        try:
            if durable:
                file.flush()
                os.fsync(file.fileno())
        finally:
            file.close()


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable where the OS allows it (POSIX); best effort elsewhere."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FsspecStagedFile(StagedFile):
    """A destination on an fsspec filesystem (object storage, memory, ...), given as a `UPath`."""

    def __init__(self, destination: UPath) -> None:
        self._fs = destination.fs
        self._destination = destination.path
        temp = destination.with_name(temp_name(destination.name))
        self._temp = temp.path
        self._file: BinaryIO | None = None
        self.path = display_path(destination)
        self.temp_path = display_path(temp)
        self._parent = destination.parent.path

    def open(self) -> BinaryIO:
        try:
            if self._fs.isdir(self._destination):
                raise DestinationError(self.path, "it is a directory")
            self._fs.makedirs(self._parent, exist_ok=True)
        except DestinationError:
            raise
        except Exception as error:
            raise DestinationError(
                self.path, f"cannot create directory {self._parent}: {_reason(error)}"
            ) from error
        try:
            self._file = open_for_upload(self._fs, self._temp)
        except Exception as error:
            raise DestinationError(
                self.path, f"cannot create temporary file {self.temp_path}: {_reason(error)}"
            ) from error
        return self._file

    def complete(self) -> None:
        try:
            self._close()  # completes the upload of the temporary object
        except Exception as error:
            raise DestinationError(
                self.path, f"cannot finish the temporary file: {_reason(error)}"
            ) from error

    def publish(self, *, overwrite: bool) -> bool:
        try:
            self._close()  # completes the upload of the temporary object
            if not overwrite and self._fs.exists(self._destination):
                self.discard()
                return False
            self._fs.mv(self._temp, self._destination)
        except Exception as error:
            raise DestinationError(
                self.path, f"cannot move the finished file into place: {_reason(error)}"
            ) from error
        return True

    def discard(self) -> None:
        file, self._file = self._file, None
        try:
            if file is not None:
                abandon(file)  # an unfinished upload is aborted, not completed
        except Exception as error:
            log.warning("Could not abandon temporary file %s: %s", self.temp_path, _reason(error))
        try:
            if self._fs.exists(self._temp):
                self._fs.rm(self._temp)
        except Exception as error:
            log.warning("Could not remove temporary file %s: %s", self.temp_path, _reason(error))

    def _close(self) -> None:
        file, self._file = self._file, None
        if file is not None and not file.closed:
            file.close()


def stage(destination: Path | UPath) -> StagedFile:
    """The staging strategy for a normalised destination (see `to_upath_or_path`)."""
    if isinstance(destination, UPath):
        return FsspecStagedFile(destination)
    return LocalStagedFile(destination)


def remove_stale_temporaries(destination: Path | UPath) -> list[str]:
    """Delete temporary siblings left by an export that was killed (SIGKILL, lost worker).

    A killed process cannot clean up after itself, so the next attempt for the same destination
    does it. Only names this module creates (`.<name>.tmp-<hex>`) are touched. Call it only when
    no other export to the same destination can be running (Airflow runs one try of a task at a
    time). Returns the paths removed.
    """
    prefix = f".{destination.name}.tmp-"
    removed: list[str] = []
    if isinstance(destination, UPath):
        aborted = abort_stale_uploads(
            destination.fs, destination.parent.path, lambda key: is_temp_name(key, destination.name)
        )
        removed.extend(f"{key} (an unfinished upload)" for key in aborted)
    try:
        if isinstance(destination, UPath):
            siblings = [p for p in destination.parent.iterdir() if p.name.startswith(prefix)]
        else:
            siblings = list(destination.parent.glob(f"{prefix}*")) if destination.parent.is_dir() else []
    except (OSError, FileNotFoundError):
        return removed
    for path in siblings:
        if not is_temp_name(path.name, destination.name):
            continue
        try:
            path.unlink()
        except OSError as error:
            log.warning("Could not remove stale temporary file %s: %s", display_path(path), error)
        else:
            removed.append(display_path(path))
    return removed
