"""Tests of `writers.formats`: one table of formats, compressions and suffixes, and its error messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_provider_logfire.writers import file_suffix, open_export, resolve_format


def test_unknown_format_and_compression_list_the_choices(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match="unknown export format 'xlsx'; valid formats: parquet, csv, jsonl, arrow"
    ):
        open_export(tmp_path / "x.xlsx", format="xlsx")
    with pytest.raises(ValueError, match="for format 'csv'; valid compressions: none, gzip, zstd"):
        open_export(tmp_path / "x.csv", format="csv", compression="snappy")
    with pytest.raises(ValueError, match="snappy, zstd, gzip, lz4, brotli, none"):
        resolve_format("parquet", "bz2")
    with pytest.raises(ValueError, match="none, lz4, zstd"):
        resolve_format("arrow", "gzip")
    with pytest.raises(ValueError, match="replace, skip, fail"):
        open_export(tmp_path / "x.parquet", if_exists="overwrite")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []  # nothing created before the options are valid
    assert resolve_format("PARQUET", "ZSTD").compression == "zstd"


def test_suffixes() -> None:
    assert file_suffix() == ".parquet"
    assert file_suffix("parquet", "zstd") == ".parquet"
    assert file_suffix("arrow", "lz4") == ".arrow"
    assert file_suffix("csv") == ".csv"
    assert file_suffix("csv", "gzip") == ".csv.gz"
    assert file_suffix("jsonl", "zstd") == ".jsonl.zst"


def test_defaults_and_spacing_in_resolve_format() -> None:
    defaults = {name: resolve_format(name).compression for name in ("parquet", "csv", "jsonl", "arrow")}
    assert defaults == {"parquet": "snappy", "csv": "none", "jsonl": "none", "arrow": "none"}
    resolved = resolve_format(" Jsonl ", " GZIP ")
    assert (resolved.name, resolved.compression, resolved.suffix) == ("jsonl", "gzip", ".jsonl.gz")
