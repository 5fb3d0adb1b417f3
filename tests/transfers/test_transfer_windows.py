"""LogfireToFileTransfer through `dag.test()`: the window a run reads, its destinations and formats.

One subprocess runs two DAGs (`dags/transfer_windows_dags.py`): a data-interval daily DAG that
exports its day to a local path, a `file://` URL, an in-memory object store and every format, and
a default-cron daily DAG that needs `window=` or explicit bounds. Every export is compared with
what the server returns for the same window.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.testing import LocalServer
from tests.support.dag_tasks import (
    BAD_TOKEN,
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    ids_digest,
    records_table,
    server_count,
)

DAY_NAME = DAY_START.date().isoformat()  # 2026-11-27: the day both DAGs export
ROWS_PER_DAY = 6_000
EXPLICIT_START = DAY_START + timedelta(hours=6)
EXPLICIT_END = DAY_START + timedelta(hours=12, minutes=30)
#: task id -> (format, compression, suffix); mirrors FORMAT_MATRIX in the DAG file.
FORMAT_CASES = {
    "to_local_path": ("parquet", "snappy", ".parquet"),
    "parquet_zstd": ("parquet", "zstd", ".parquet"),
    "csv_plain": ("csv", "none", ".csv"),
    "csv_gzip": ("csv", "gzip", ".csv.gz"),
    "jsonl_plain": ("jsonl", "none", ".jsonl"),
    "jsonl_zstd": ("jsonl", "zstd", ".jsonl.zst"),
    "arrow_plain": ("arrow", "none", ".arrow"),
    "arrow_lz4": ("arrow", "lz4", ".arrow"),
}
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def runs(server: LocalServer, out_dir: Path, run_module_dags: RunDags) -> dict[str, DagRunReport]:
    """Seed two demo days plus rows on the day's edges, then run both DAGs for the same date."""
    engine = server.engine
    engine.load_demo(days=2, rows_per_day=ROWS_PER_DAY, seed=5, end=DAY_END)
    one_us = timedelta(microseconds=1)
    edges = [DAY_START - one_us, DAY_START, DAY_END - one_us, DAY_END]
    engine.insert_arrow("records", records_table(edges, id_prefix="edge"))
    reports = run_module_dags(
        [DAGS_DIR / "transfer_windows_dags.py"],
        [
            {"dag_id": "lf_interval_daily", "logical_date": LOGICAL_DATE.isoformat()},
            {"dag_id": "lf_cron_daily", "logical_date": LOGICAL_DATE.isoformat()},
        ],
        env={**connection_env("logfire_default", server.url), "LOGFIRE_TEST_OUT": str(out_dir)},
    )
    return {report.dag_id: report for report in reports}


@pytest.fixture(scope="module")
def expected_day(client: LogfireClient) -> pa.Table:
    """What the server returns for the day, sorted like `_sorted` sorts exports."""
    table = client.query_arrow(
        "SELECT * FROM records", min_timestamp=DAY_START, max_timestamp=DAY_END, limit=10_000
    )
    assert 0 < table.num_rows < 10_000  # one request holds the whole day: a complete reference
    return _sorted(table)


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("start_timestamp", "ascending"), ("span_id", "ascending")])


def _only_file(directory: Path) -> Path:
    """The single file in `directory`: an export leaves no temporary sibling behind."""
    files = sorted(directory.iterdir())
    assert [f.name for f in files if f.name.startswith(".")] == [], "a temporary file was left behind"
    assert len(files) == 1, files
    return files[0]


# -- which window -----------------------------------------------------------------------------------


def test_data_interval_timetable_exports_exactly_its_day(
    runs: dict[str, DagRunReport], out_dir: Path, client: LogfireClient, expected_day: pa.Table
) -> None:
    report = runs["lf_interval_daily"]
    assert report.tasks["to_local_path"] == "success", report.task_log("to_local_path")[-3000:]
    summary = report.xcom["to_local_path"]
    path = out_dir / "local" / DAY_NAME / "records.parquet"
    assert summary["path"] == str(path)
    assert (summary["min_timestamp"], summary["max_timestamp"]) == (
        DAY_START.isoformat(),
        DAY_END.isoformat(),
    )
    count = server_count(client, DAY_START, DAY_END)
    assert count == ROWS_PER_DAY + 2  # the demo day and the two edge rows inside it
    assert summary["rows"] == count
    exported = pq.read_table(_only_file(path.parent))
    ids = exported.column("span_id").to_pylist()
    assert len(ids) == len(set(ids)) == count
    assert set(ids) == set(expected_day.column("span_id").to_pylist())
    # The day's first microsecond and its last are in; the instants just outside are not.
    assert {"edge000000001", "edge000000002"} <= set(ids)
    assert not {"edge000000000", "edge000000003"} & set(ids)


def test_default_cron_schedule_with_window_exports_the_same_day(
    runs: dict[str, DagRunReport], out_dir: Path, expected_day: pa.Table
) -> None:
    report = runs["lf_cron_daily"]
    assert report.tasks["with_window"] == "success", report.task_log("with_window")[-3000:]
    summary = report.xcom["with_window"]
    assert (summary["min_timestamp"], summary["max_timestamp"]) == (
        DAY_START.isoformat(),
        DAY_END.isoformat(),
    )
    exported = pq.read_table(out_dir / "cron" / DAY_NAME / "records.parquet")
    assert summary["rows"] == exported.num_rows == expected_day.num_rows
    assert _sorted(exported).column("span_id").equals(expected_day.column("span_id"))


def test_default_cron_schedule_without_window_fails_naming_the_fixes(
    runs: dict[str, DagRunReport], out_dir: Path
) -> None:
    report = runs["lf_cron_daily"]
    assert report.tasks["without_window"] == "failed"
    assert "without_window" not in report.xcom
    log = report.task_log("without_window")
    assert "WindowError" in log
    assert "zero-width (2026-11-28T00:00:00+00:00 to 2026-11-28T00:00:00+00:00)" in log
    for fix in ("CronDataIntervalTimetable", "window=timedelta(days=1)", "min_timestamp", "max_timestamp"):
        assert fix in log, fix
    assert not (out_dir / "cron_no_window").exists()  # failed before creating anything


def test_explicit_templated_timestamps_win(
    runs: dict[str, DagRunReport], out_dir: Path, client: LogfireClient
) -> None:
    interval = runs["lf_interval_daily"]
    assert interval.tasks["explicit_bounds"] == "success", interval.task_log("explicit_bounds")[-3000:]
    rendered = interval.rendered["explicit_bounds"]
    assert rendered["min_timestamp"] == f"{DAY_NAME}T06:00:00Z"
    assert rendered["max_timestamp"] == f"{DAY_NAME}T12:30:00Z"
    summary = interval.xcom["explicit_bounds"]
    assert (summary["min_timestamp"], summary["max_timestamp"]) == (
        EXPLICIT_START.isoformat(),
        EXPLICIT_END.isoformat(),
    )
    expected = server_count(client, EXPLICIT_START, EXPLICIT_END)
    assert 0 < expected < ROWS_PER_DAY
    exported = pq.read_table(out_dir / "explicit" / f"{DAY_NAME}.parquet")
    assert summary["rows"] == exported.num_rows == expected
    times = exported.column("start_timestamp").to_pylist()
    assert min(times) >= EXPLICIT_START and max(times) < EXPLICIT_END

    # On a zero-width (default cron) schedule, explicit bounds alone define the window.
    cron = runs["lf_cron_daily"]
    assert cron.tasks["explicit_bounds"] == "success", cron.task_log("explicit_bounds")[-3000:]
    evening = DAY_START + timedelta(hours=18)
    assert cron.rendered["explicit_bounds"]["min_timestamp"] == f"{DAY_NAME}T18:00:00+00:00"
    assert cron.xcom["explicit_bounds"]["rows"] == server_count(client, evening, DAY_END) > 0


# -- where to -------------------------------------------------------------------------------------


def test_file_url_destination(runs: dict[str, DagRunReport], out_dir: Path, expected_day: pa.Table) -> None:
    report = runs["lf_interval_daily"]
    assert report.tasks["to_file_url"] == "success", report.task_log("to_file_url")[-3000:]
    path = out_dir / "url" / DAY_NAME / "records.parquet"
    assert report.rendered["to_file_url"]["destination"] == f"file://{path}"
    assert report.xcom["to_file_url"]["path"] == str(path)
    exported = pq.read_table(_only_file(path.parent))
    assert _sorted(exported).column("span_id").equals(expected_day.column("span_id"))


def test_object_storage_destination_in_memory(runs: dict[str, DagRunReport], expected_day: pa.Table) -> None:
    """memory:// is a non-local ObjectStoragePath: the export goes through fsspec, not the local disk."""
    report = runs["lf_interval_daily"]
    assert report.tasks["to_memory"] == "success", report.task_log("to_memory")[-3000:]
    assert report.tasks["read_memory"] == "success", report.task_log("read_memory")[-3000:]
    # universal_pathlib 0.2 (Airflow 3.0, 3.1) spells the memory filesystem's root: memory:///...
    assert (
        report.xcom["to_memory"]["path"].replace("memory:///", "memory://")
        == f"memory://logfire-exports/{DAY_NAME}/records.parquet"
    )
    read_back = report.xcom["read_memory"]
    assert read_back == {
        "rows": expected_day.num_rows,
        "ids_sha256": ids_digest(expected_day.column("span_id").to_pylist()),
        "start_type": "timestamp[us, tz=UTC]",
        "leftovers": [],
    }
    assert report.xcom["to_memory"]["rows"] == expected_day.num_rows


# -- in what format -----------------------------------------------------------------------------------


def _format_path(out_dir: Path, task_id: str) -> Path:
    if task_id == "to_local_path":
        return out_dir / "local" / DAY_NAME / "records.parquet"
    return out_dir / "formats" / task_id / f"{DAY_NAME}{FORMAT_CASES[task_id][2]}"


def _read_bytes(path: Path, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(path.read_bytes())
    if compression == "zstd":
        with pa.input_stream(str(path), compression="zstd") as stream:
            return stream.read()
    return path.read_bytes()


def _check_text_value(name: str, data_type: pa.DataType, text: Any, expected: Any, *, csv_cell: bool) -> None:
    """One CSV cell or JSON value against the server's typed value, per the writers' conventions."""
    where = f"column {name!r}"
    if expected is None:
        assert text in (None, "") if csv_cell else text is None, where
        return
    if pa.types.is_timestamp(data_type):
        assert isinstance(text, str) and _ISO_UTC.match(text), (where, text)
        assert datetime.fromisoformat(text.replace("Z", "+00:00")) == expected, where
    elif pa.types.is_date(data_type):
        assert text == expected.isoformat(), where
    elif pa.types.is_boolean(data_type):
        assert text == ("true" if expected else "false") if csv_cell else text is expected, where
    elif pa.types.is_integer(data_type):
        assert (int(text) if csv_cell else text) == expected, where
    elif pa.types.is_floating(data_type):
        value = float(text) if csv_cell else text
        assert math.isclose(value, expected, rel_tol=1e-15), where
    elif pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        assert (json.loads(text) if csv_cell else text) == expected, where
    else:  # text, including JSON text such as `attributes`: written as the text it is
        assert text == expected, where


def _compare_text_rows(rows: list[dict[str, Any]], expected: pa.Table, *, csv_cells: bool) -> None:
    assert len(rows) == expected.num_rows
    by_id = {row["span_id"]: row for row in expected.to_pylist()}
    assert len(by_id) == expected.num_rows  # span_id identifies a row
    for row in rows:
        want = by_id[row["span_id"]]
        assert list(row) == expected.schema.names
        for field in expected.schema:
            _check_text_value(field.name, field.type, row[field.name], want[field.name], csv_cell=csv_cells)


@pytest.mark.parametrize("task_id", sorted(FORMAT_CASES))
def test_every_format_reads_back_as_the_server_returned_it(
    task_id: str, runs: dict[str, DagRunReport], out_dir: Path, expected_day: pa.Table
) -> None:
    fmt, compression, _ = FORMAT_CASES[task_id]
    report = runs["lf_interval_daily"]
    assert report.tasks[task_id] == "success", report.task_log(task_id)[-3000:]
    path = _format_path(out_dir, task_id)
    summary = report.xcom[task_id]
    assert summary["path"] == str(path)
    assert summary["format"] == fmt
    assert summary["rows"] == expected_day.num_rows
    assert summary["bytes"] == path.stat().st_size
    _only_file(path.parent)

    if fmt in ("parquet", "arrow"):
        if fmt == "parquet":
            table = pq.read_table(path)
            codecs = {pq.ParquetFile(path).metadata.row_group(0).column(i).compression for i in range(3)}
            assert codecs == {compression.upper()}
        else:
            reader = pa.ipc.open_file(path)
            table = reader.read_all()
        # Typed: the same schema (timestamps stay timestamps, `attributes` stays text) and values.
        assert table.schema.field("start_timestamp").type == pa.timestamp("us", tz="UTC")
        assert table.schema.field("attributes").type == pa.string()
        assert table.schema.names == expected_day.schema.names
        for field in expected_day.schema:
            assert table.schema.field(field.name).type == field.type, field.name
        assert _sorted(table).equals(expected_day.cast(table.schema))
        return

    text = _read_bytes(path, compression).decode("utf-8")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines()]
        attributes = [row["attributes"] for row in rows if row["attributes"] is not None]
        assert attributes and all(
            isinstance(value, str) for value in attributes
        )  # not parsed, not re-encoded
        assert all(isinstance(json.loads(value), dict) for value in attributes)
    _compare_text_rows(rows, expected_day, csv_cells=fmt == "csv")


def test_no_token_anywhere(runs: dict[str, DagRunReport]) -> None:
    assert SECRET_TOKEN not in BAD_TOKEN
    assert_secrets_absent(runs.values(), SECRET_TOKEN)
