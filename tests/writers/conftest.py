"""Shared data and helpers of the writers' tests: one batch shape that covers every value kind.

Tests write real files (on disk and on fsspec's memory filesystem) and read them back with
independent readers (pyarrow's, Python's `csv` and `json`).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from airflow_provider_logfire.writers import Destination, ExportResult, open_export

UTC = dt.timezone.utc

SCHEMA = pa.schema(
    [
        pa.field("start_timestamp", pa.timestamp("us", "UTC"), nullable=False),
        pa.field("day", pa.date32()),
        pa.field("level", pa.int32()),
        pa.field("message", pa.string()),
        pa.field("attributes", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("histogram", pa.list_(pa.list_(pa.int64()))),
        pa.field("is_exception", pa.bool_()),
        pa.field("duration", pa.float64()),
    ]
)

MESSAGES = [
    "plain",
    'quote " and backslash \\ and comma, here',
    "multi\nline\ttabbed\r\x01control",
    "unicode: héllo wörld — 日本語 😀",
    "",
    None,
]
ATTRIBUTES = [
    '{"http.route": "/items/{id}", "cost": 1.5}',
    '{"nested": {"q": "a\\"b"}}',
    "{}",
    None,
    "[1, 2]",
    "{}",
]
TAGS = [["a", "b"], [], None, ["ünï", None], ['he said "hi"'], ["x"]]
HISTOGRAMS = [[[1, 2], [3]], [], None, [[]], [[4, None]], [[5]]]


def make_batch(start: int, rows: int = 6) -> pa.RecordBatch:
    """A batch covering every case: timestamps, dates, JSON text, lists, nulls, booleans, unicode."""
    base = dt.datetime(2026, 11, 27, tzinfo=UTC)
    return pa.record_batch(
        {
            "start_timestamp": [
                base + dt.timedelta(seconds=start + i, microseconds=123456 + i) for i in range(rows)
            ],
            "day": [dt.date(2026, 11, 27) if i % 3 else None for i in range(rows)],
            "level": [9, 17, None, 13, 1, 21][:rows],
            "message": MESSAGES[:rows],
            "attributes": ATTRIBUTES[:rows],
            "tags": TAGS[:rows],
            "histogram": HISTOGRAMS[:rows],
            "is_exception": [True, False, None, False, True, False][:rows],
            "duration": [0.25, None, 1e-7, 12345.678, 0.0, 3.0][:rows],
        },
        schema=SCHEMA,
    )


BATCHES = [make_batch(0), make_batch(100), make_batch(200)]
EXPECTED = pa.Table.from_batches(BATCHES)


def iso(value: dt.datetime) -> str:
    """Independent reference formatting: Python's own, not pyarrow's."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expected_jsonl_records() -> list[dict]:
    """`EXPECTED` as JSON lines must read back: ISO timestamps and dates, everything else as is."""
    records = []
    for row in EXPECTED.to_pylist():
        row["start_timestamp"] = iso(row["start_timestamp"])
        row["day"] = row["day"].isoformat() if row["day"] else None
        records.append(row)
    return records


def write_all(
    destination: Destination, batches: Iterable[pa.RecordBatch] = BATCHES, **options
) -> ExportResult:
    """One complete export through the public entry point; its result."""
    with open_export(destination, **options) as export:
        for batch in batches:
            export.write_batch(batch)
    assert export.result is not None
    return export.result


def read_text(path: Path) -> str:
    """A text export, decompressed whatever its compression (detected from the suffix)."""
    with pa.input_stream(str(path), compression="detect") as stream:
        return stream.read().decode("utf-8")


def leftovers(directory: Path) -> list[str]:
    """Temporary siblings still present: a clean export leaves none."""
    return sorted(name for name in os.listdir(directory) if ".tmp-" in name)


def generated_batches(total_rows: int, batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
    """Batches made on the fly, so the test itself never holds more than one."""
    for start in range(0, total_rows, batch_rows):
        ids = pa.array(range(start, min(start + batch_rows, total_rows)), pa.int64())
        yield pa.record_batch(
            {
                "start_timestamp": pc.multiply(ids, 1_000).cast(pa.timestamp("us", "UTC")),
                "message": pc.binary_join_element_wise("span ", ids.cast(pa.string()), " " + "x" * 150, ""),
                "level": ids,
            }
        )


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A private prefix on fsspec's process-wide memory filesystem, removed afterwards."""
    root = f"memory://writers-test-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root.removeprefix("memory://")
    if fs.exists(path):
        fs.rm(path, recursive=True)
