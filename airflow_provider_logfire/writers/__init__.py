"""Arrow record batches to export files (Parquet, CSV, JSON lines, Arrow), published atomically.

Airflow-free: destinations are local paths, `file://` URLs or `upath.UPath`s (Airflow's
`ObjectStoragePath` is one). See `writer.open_export` for the entry point and `staging` for the
exact atomicity guarantees per kind of destination.

The names below are loaded on first use: `formats`, `policies` and `layout` are pure tables that an
operator consults at DAG-parse time, and importing them must not pull in pyarrow or fsspec.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_logfire.exceptions import (
        DestinationError,
        DestinationExistsError,
        SchemaMismatchError,
        WriterError,
    )
    from airflow_provider_logfire.writers.formats import FORMATS, ResolvedFormat, file_suffix, resolve_format
    from airflow_provider_logfire.writers.paths import Destination, destination_exists, to_upath_or_path
    from airflow_provider_logfire.writers.policies import (
        IF_EXISTS_CHOICES,
        ON_EMPTY_CHOICES,
        IfExists,
        OnEmpty,
        check_if_exists,
        check_on_empty,
    )
    from airflow_provider_logfire.writers.writer import (
        ExportResult,
        ExportWriter,
        check_destination,
        open_export,
    )

#: Public name -> the module that defines it (a submodule, or the package's exception hierarchy).
_HOMES = {
    "DestinationError": "airflow_provider_logfire.exceptions",
    "DestinationExistsError": "airflow_provider_logfire.exceptions",
    "SchemaMismatchError": "airflow_provider_logfire.exceptions",
    "WriterError": "airflow_provider_logfire.exceptions",
    "FORMATS": "formats",
    "ResolvedFormat": "formats",
    "file_suffix": "formats",
    "resolve_format": "formats",
    "IF_EXISTS_CHOICES": "policies",
    "IfExists": "policies",
    "check_if_exists": "policies",
    "ON_EMPTY_CHOICES": "policies",
    "OnEmpty": "policies",
    "check_on_empty": "policies",
    "Destination": "paths",
    "destination_exists": "paths",
    "to_upath_or_path": "paths",
    "ExportResult": "writer",
    "ExportWriter": "writer",
    "check_destination": "writer",
    "open_export": "writer",
}

__all__ = [
    "FORMATS",
    "IF_EXISTS_CHOICES",
    "ON_EMPTY_CHOICES",
    "Destination",
    "DestinationError",
    "DestinationExistsError",
    "ExportResult",
    "ExportWriter",
    "IfExists",
    "OnEmpty",
    "ResolvedFormat",
    "SchemaMismatchError",
    "WriterError",
    "check_destination",
    "check_if_exists",
    "check_on_empty",
    "destination_exists",
    "file_suffix",
    "open_export",
    "resolve_format",
    "to_upath_or_path",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(home if "." in home else f"{__name__}.{home}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
