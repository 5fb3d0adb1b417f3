"""The file formats an export can be written in, their compressions and file suffixes.

One table describes every format so that validation, defaults, suffixes and error messages agree.
Parquet and Arrow compress inside the file (the suffix does not change); CSV and JSON lines are
compressed as a whole stream (`.csv.gz`, `.jsonl.zst`).
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_logfire.exceptions import LogfireConfigError


@dataclass(frozen=True)
class FormatSpec:
    """A format and the compressions it accepts; the first one is the default."""

    name: str
    suffix: str
    compressions: tuple[str, ...]
    #: Whether compression wraps the whole byte stream (text formats) rather than pages/buffers.
    stream_compressed: bool

    @property
    def default_compression(self) -> str:
        return self.compressions[0]


@dataclass(frozen=True)
class ResolvedFormat:
    """A validated (format, compression) pair, ready to be written."""

    spec: FormatSpec
    compression: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def suffix(self) -> str:
        """The conventional file suffix, e.g. `.parquet` or `.jsonl.gz`."""
        if self.spec.stream_compressed:
            return self.spec.suffix + _STREAM_SUFFIXES[self.compression]
        return self.spec.suffix


_STREAM_SUFFIXES = {"none": "", "gzip": ".gz", "zstd": ".zst"}

FORMATS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        FormatSpec("parquet", ".parquet", ("snappy", "zstd", "gzip", "lz4", "brotli", "none"), False),
        FormatSpec("csv", ".csv", ("none", "gzip", "zstd"), True),
        FormatSpec("jsonl", ".jsonl", ("none", "gzip", "zstd"), True),
        FormatSpec("arrow", ".arrow", ("none", "lz4", "zstd"), False),
    )
}


def resolve_format(format: str = "parquet", compression: str | None = None) -> ResolvedFormat:
    """Validate a format and compression (case-insensitive); `None` picks the format's default.

    Raises `ValueError` listing the valid choices, so a typo in a DAG is fixed from the message alone.
    """
    spec = FORMATS.get(str(format).strip().lower())
    if spec is None:
        raise LogfireConfigError(f"unknown export format {format!r}; valid formats: {', '.join(FORMATS)}")
    if compression is None:
        return ResolvedFormat(spec, spec.default_compression)
    chosen = str(compression).strip().lower()
    if chosen not in spec.compressions:
        raise LogfireConfigError(
            f"unknown compression {compression!r} for format {spec.name!r}; "
            f"valid compressions: {', '.join(spec.compressions)} (default {spec.default_compression})"
        )
    return ResolvedFormat(spec, chosen)


def file_suffix(format: str = "parquet", compression: str | None = None) -> str:
    """The conventional suffix for a format and compression, e.g. `file_suffix("csv", "gzip") == ".csv.gz"`."""
    return resolve_format(format, compression).suffix
