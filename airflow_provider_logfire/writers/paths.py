"""Where an export goes: a local `Path` or a `UPath` on an fsspec filesystem.

Local destinations are kept as plain `pathlib.Path` (even when given as `file://` URLs or local
`UPath`s) so that they get a real atomic `os.replace`; every other URL scheme goes through fsspec.
Airflow's `ObjectStoragePath` is a `UPath`, so it is accepted without importing Airflow.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from upath import UPath

from airflow_provider_logfire.exceptions import DestinationError, LogfireArgumentTypeError, LogfireConfigError

#: Anything an export destination may be given as.
Destination = str | os.PathLike | UPath
#: A destination after `to_upath_or_path`: what the writers work with internally.
Target = Path | UPath

_URL_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
#: The `user:password@` of a URL. universal_pathlib 0.2 (Airflow 3.0, 3.1) writes an `s3://` one
#: back as `user:/password@bucket`, hence the optional `/` after the colon.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*(?::/[^/@]*)?@")


def to_upath_or_path(value: Destination) -> Target:
    """Normalise a destination: local `Path` for plain paths and `file://` URLs, `UPath` otherwise.

    A `UPath` that is not local is returned as is, keeping its filesystem options (credentials,
    an Airflow connection id) untouched.
    """
    if isinstance(value, UPath):
        if value.protocol in _LOCAL_PROTOCOLS:
            return Path(value.path)
        return value
    if isinstance(value, os.PathLike):
        return Path(value)
    if not isinstance(value, str):
        raise LogfireArgumentTypeError(
            f"an export destination must be a str, os.PathLike or UPath, not {type(value).__name__}"
        )
    match = _URL_SCHEME.match(value)
    if match is None:
        return Path(value)
    if match["scheme"].lower() in {"file", "local"}:
        return Path(_file_url_to_path(value))
    return UPath(value)


def is_local(path: object) -> bool:
    """Whether `path` is a local filesystem path, not one on object storage.

    Not `isinstance(path, Path)` alone: universal_pathlib 0.2 (Airflow 3.0 and 3.1) makes every
    `UPath`, `s3://` and `memory://` ones too, a subclass of `pathlib.Path`.
    """
    return isinstance(path, Path) and not isinstance(path, UPath)


def _file_url_to_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise LogfireConfigError(f"file URL with a remote host is not supported: {display_path(url)}")
    return url2pathname(parts.path)


def display_path(path: Path | UPath | str) -> str:
    """The destination as shown in results, logs and errors: never with `user:password@`.

    A `UPath` is shown without its user part at all: Airflow's `ObjectStoragePath` keeps its
    connection id there (`s3://aws_default@bucket/key`), and the plain URL is the one a reader of
    the bucket (or a downstream task, with its own connection) can use.
    """
    if isinstance(path, UPath):
        return _USERINFO.sub(r"\1", str(path))
    if isinstance(path, Path):
        return str(path.absolute())
    return _USERINFO.sub(r"\1***@", path)


def destination_exists(destination: Destination) -> bool:
    """Whether something already exists at the destination (cheap: a stat or one HEAD request).

    Lets a caller with `if_exists="skip"` decide before fetching anything.
    """
    path = to_upath_or_path(destination)  # a pass-through for a destination already normalised
    try:
        if is_local(path):
            return os.path.lexists(path)
        return bool(path.fs.exists(path.path))
    except OSError as error:
        raise DestinationError(display_path(path), f"cannot check whether it exists: {error}") from error
