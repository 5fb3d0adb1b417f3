"""A file that appears at its final path only once it is complete.

`query_csv_to_file` streams a body into a temporary sibling and renames it into place, so a
reader (or a retry) never finds half a result under the final name. Shared by both clients.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


class AtomicFile:
    """`path`, written as `.<name>.part-<pid>` beside it and moved into place by `publish()`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.target = Path(path)
        self.partial = self.target.with_name(f".{self.target.name}.part-{os.getpid()}")

    def open(self) -> BinaryIO:
        """The temporary file, emptied: each attempt of a retried request starts afresh."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        return self.partial.open("wb")

    def publish(self) -> None:
        os.replace(self.partial, self.target)

    def discard(self) -> None:
        """Remove the temporary file if it is still there (after a failure, or always: harmless)."""
        self.partial.unlink(missing_ok=True)
