"""How an export is laid out as a set of files: numbered parts and Hive-style partition folders.

    s3://bucket/logfire/date=2026-11-27/records-{part}.parquet, partition_by=["hour"]
    → s3://bucket/logfire/date=2026-11-27/hour=00/records-00000.parquet
      s3://bucket/logfire/date=2026-11-27/hour=00/records-00001.parquet   (max_rows_per_file)
      s3://bucket/logfire/date=2026-11-27/hour=01/records-00000.parquet
      ...
      s3://bucket/logfire/date=2026-11-27/_SUCCESS                       (the manifest, last)

The folder of the destination is the set's root: partition folders go between it and the file
name, and `_SUCCESS` sits in it. Pure (no pyarrow), so an operator checks a layout at DAG-parse time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from airflow_provider_logfire.exceptions import LogfireConfigError

#: The placeholder a destination's file name carries for the part number.
PART = "{part}"
#: Parts are numbered from 0, zero-padded to this many digits.
PART_DIGITS = 5
#: Partition keys that are units of the time column (unless the query has a column of that name).
TIME_UNITS = ("day", "hour", "minute")
#: The folder value Hive gives a NULL (or empty) partition value.
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: The marker written last in the set's root, holding the manifest.
SUCCESS_NAME = "_SUCCESS"

# Hive's FileUtils.escapePathName: control characters and these are written as %XX.
_HIVE_ESCAPED = frozenset(chr(c) for c in range(0x01, 0x20)) | frozenset("\"#%'*/:=?\\\x7f{[]^")


def hive_escape(value: str | None) -> str:
    """A partition value as a Hive folder name component: NULL and "" are the default partition."""
    if value is None or value == "":
        return HIVE_DEFAULT_PARTITION
    return "".join(f"%{ord(c):02X}" if c in _HIVE_ESCAPED else c for c in value)


def check_partition_keys(partition_by: Sequence[str] | None) -> tuple[str, ...]:
    """`partition_by` as a tuple of distinct, non-empty keys; a string or a repeat is an error."""
    if partition_by is None:
        return ()
    if isinstance(partition_by, str):
        raise LogfireConfigError(
            f"partition_by must be a list of keys, e.g. partition_by=[{partition_by!r}], not a string"
        )
    keys = tuple(partition_by)
    for key in keys:
        if not isinstance(key, str) or not key or "/" in key or "=" in key:
            raise LogfireConfigError(
                f"partition_by keys must be column names or one of {', '.join(TIME_UNITS)}; got {key!r}"
            )
    if len(set(keys)) != len(keys):
        raise LogfireConfigError(f"partition_by names a key twice: {list(keys)}")
    return keys


def check_max_rows_per_file(max_rows_per_file: int | None) -> int | None:
    if max_rows_per_file is None:
        return None
    if isinstance(max_rows_per_file, bool) or not isinstance(max_rows_per_file, int) or max_rows_per_file < 1:
        raise LogfireConfigError(f"max_rows_per_file must be a positive integer, got {max_rows_per_file!r}")
    return max_rows_per_file


@dataclass(frozen=True)
class SetLayout:
    """The file name template and the rules that turn an export's rows into files."""

    #: The destination's file name, possibly with `{part}`, e.g. `records-{part}.parquet`.
    name_template: str
    partition_by: tuple[str, ...] = ()
    max_rows_per_file: int | None = None

    @classmethod
    def of(
        cls,
        destination_name: str,
        *,
        partition_by: Sequence[str] | None = None,
        max_rows_per_file: int | None = None,
    ) -> SetLayout:
        """Check the options against the destination's file name (see `check_layout`)."""
        layout = cls(
            destination_name, check_partition_keys(partition_by), check_max_rows_per_file(max_rows_per_file)
        )
        if layout.max_rows_per_file is not None and PART not in destination_name:
            raise LogfireConfigError(
                f"max_rows_per_file={layout.max_rows_per_file} writes several files, so the destination's "
                f"file name needs a {PART} placeholder for the part number, e.g. "
                f"'records-{PART}.parquet' (got {destination_name!r})"
            )
        return layout

    @property
    def is_set(self) -> bool:
        """Whether the export is a file set (with a manifest) rather than one plain file."""
        return bool(self.partition_by) or self.max_rows_per_file is not None or PART in self.name_template

    def file_name(self, part: int) -> str:
        return self.name_template.replace(PART, f"{part:0{PART_DIGITS}d}")


def check_layout(
    destination: str, *, partition_by: Sequence[str] | None = None, max_rows_per_file: int | None = None
) -> SetLayout:
    """The layout of an export to `destination` (a path or URL), or a `LogfireConfigError`.

    `{part}` must be in the file name (the last path component), not in a folder.
    """
    head, _, name = str(destination).rstrip("/").rpartition("/")
    if PART in head:
        raise LogfireConfigError(
            f"{PART} belongs in the destination's file name, not in a folder: {destination!r}"
        )
    return SetLayout.of(name, partition_by=partition_by, max_rows_per_file=max_rows_per_file)
