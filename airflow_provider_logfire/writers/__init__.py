"""Arrow record batches to export files (Parquet, CSV, JSON lines, Arrow), published atomically.

Airflow-free: destinations are local paths, `file://` URLs or `upath.UPath`s (Airflow's
`ObjectStoragePath` is one). See `export.open_export` for the entry point and `staging` for the
exact atomicity guarantees per kind of destination.
"""

from __future__ import annotations

from airflow_provider_logfire.writers.errors import (
    DestinationError,
    DestinationExistsError,
    SchemaMismatchError,
    WriterError,
)
from airflow_provider_logfire.writers.formats import FORMATS, ResolvedFormat, file_suffix, resolve_format
from airflow_provider_logfire.writers.paths import Destination, destination_exists, to_upath_or_path
from airflow_provider_logfire.writers.writer import (
    IF_EXISTS_CHOICES,
    ExportResult,
    ExportWriter,
    IfExists,
    check_destination,
    open_export,
)

__all__ = [
    "FORMATS",
    "IF_EXISTS_CHOICES",
    "Destination",
    "DestinationError",
    "DestinationExistsError",
    "ExportResult",
    "ExportWriter",
    "IfExists",
    "ResolvedFormat",
    "SchemaMismatchError",
    "WriterError",
    "check_destination",
    "destination_exists",
    "file_suffix",
    "open_export",
    "resolve_format",
    "to_upath_or_path",
]
