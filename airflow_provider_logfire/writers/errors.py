"""Exceptions of the writers, each saying what to fix: the destination, the data, or the options.

They subclass the built-in exception a caller would naturally catch (`OSError` for destinations,
`ValueError` for data), so generic handlers keep working.
"""

from __future__ import annotations


class WriterError(Exception):
    """Base class of every error raised by the writers."""


class DestinationError(WriterError, OSError):
    """The destination cannot be written: the message names the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write export to {path}: {reason}")
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        # OSError's own __str__ would ignore the message when errno is unset: keep ours.
        return str(self.args[0])


class DestinationExistsError(DestinationError, FileExistsError):
    """The destination already exists and `if_exists="fail"` forbids replacing it."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "the destination already exists (if_exists='fail')")


class SchemaMismatchError(WriterError, ValueError):
    """A batch does not fit the export's schema (missing, extra or incompatible column)."""
