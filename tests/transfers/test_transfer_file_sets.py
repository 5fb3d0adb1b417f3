"""Exports as file sets through Airflow: numbered parts, Hive partitions, the manifest, on_empty.

One subprocess runs every DAG of `dags/transfer_file_set_dags.py` with `dag.test()` against the
module's local server, which holds a day of rows with known ids. Each set is read back with the
readers a lake uses (pyarrow.dataset, DuckDB) and compared with the server's own answer: the
union of the files is the window's rows, each once.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local.testing import LocalServer
from tests.support.dag_tasks import (
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    records_table,
)

ROWS = 12_000  # two pieces of the export, several files per hour and part
DAY_NAME = DAY_START.strftime("%Y-%m-%d")
#: Routes that need Hive's escaping, and rows without one (NULL → the default partition).
ROUTES = ["/api/orders", "/api/orders/{id}", "/health?full=1", None]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("file_sets")


@pytest.fixture(scope="module")
def ids() -> list[str]:
    return [f"set{i:09d}" for i in range(ROWS)]


@pytest.fixture(scope="module")
def reports(
    server: LocalServer, out_dir: Path, ids: list[str], run_module_dags: RunDags
) -> dict[str, DagRunReport]:
    # Uneven across the day: the first hours are crowded, so parts and hours do not line up.
    offsets = np.sort(np.random.default_rng(7).power(0.5, ROWS)) * (DAY_END - DAY_START).total_seconds()
    times = pa.array([DAY_START + timedelta(seconds=float(s)) for s in offsets], pa.timestamp("us", tz="UTC"))
    table = records_table(times, id_prefix="set", http_route=pa.array([ROUTES[i % 4] for i in range(ROWS)]))
    assert table.column("span_id").to_pylist() == ids
    server.engine.insert_arrow("records", table)
    date = LOGICAL_DATE.isoformat()
    runs = run_module_dags(
        [DAGS_DIR / "transfer_file_set_dags.py"],
        [
            {"dag_id": "lf_file_sets", "logical_date": date},
            {"dag_id": "lf_set_replace", "logical_date": date},
            {"dag_id": "lf_on_empty", "logical_date": date, "conf": {"format": "csv"}},
        ],
        env={**connection_env("logfire_default", server.url), "LOGFIRE_TEST_OUT": str(out_dir)},
    )
    return {report.dag_id: report for report in runs}


def _manifest(root: Path) -> dict:
    return json.loads((root / "_SUCCESS").read_text())


def _check_manifest(root: Path, manifest: dict, summary: dict) -> None:
    """The manifest lists exactly the files on disk, with their real rows and sizes."""
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    listed = [entry["path"] for entry in manifest["files"]]
    assert sorted([*listed, "_SUCCESS"]) == on_disk, "a file on disk is not in the manifest, or missing"
    assert summary["files"] == [f"{root}/{path}" for path in listed]
    assert summary["manifest"] == str(root / "_SUCCESS") and summary["path"] == str(root)
    assert manifest["rows"] == summary["rows"] == sum(entry["rows"] for entry in manifest["files"])
    assert manifest["bytes"] == summary["bytes"] == sum((root / path).stat().st_size for path in listed)
    assert manifest["window"] == {
        "min_timestamp": DAY_START.isoformat(),
        "max_timestamp": DAY_END.isoformat(),
    }
    assert manifest["sql"].startswith("SELECT span_id, span_name, http_route")
    for entry in manifest["files"]:
        assert DAY_START.isoformat() <= entry["min_timestamp"] <= entry["max_timestamp"] < DAY_END.isoformat()


def test_numbered_parts_are_exact_and_listed(reports, out_dir: Path, ids: list[str]) -> None:
    report = reports["lf_file_sets"]
    assert report.tasks["parts"] == "success", report.task_log("parts")[-3000:]
    root = out_dir / "parts" / DAY_NAME
    manifest = _manifest(root)
    _check_manifest(root, manifest, report.xcom["parts"])
    names = [entry["path"] for entry in manifest["files"]]
    assert names == [f"records-{n:05d}.parquet" for n in range(ROWS // 3_000)]
    tables = [pq.read_table(root / name) for name in names]
    assert [t.num_rows for t in tables] == [3_000] * 4
    # In time order across the parts, and together exactly the window's rows.
    times = pa.concat_tables(tables).column("start_timestamp").to_pylist()
    assert times == sorted(times)
    assert sorted(pa.concat_tables(tables).column("span_id").to_pylist()) == ids
    assert [f["name"] for f in manifest["schema"]] == tables[0].schema.names


def test_hour_partitions_with_parts(reports, out_dir: Path, ids: list[str]) -> None:
    report = reports["lf_file_sets"]
    assert report.tasks["hours"] == "success", report.task_log("hours")[-3000:]
    root = out_dir / "hours" / DAY_NAME
    manifest = _manifest(root)
    _check_manifest(root, manifest, report.xcom["hours"])
    for entry in manifest["files"]:
        hour = entry["partition"]["hour"]
        assert entry["path"].startswith(f"hour={hour}/records-")
        assert entry["min_timestamp"][11:13] == entry["max_timestamp"][11:13] == hour
        assert 0 < entry["rows"] <= 500
    # Parts restart at 00000 in every hour, and only the last part of an hour may be short.
    by_hour: dict[str, list[dict]] = {}
    for entry in manifest["files"]:
        by_hour.setdefault(entry["partition"]["hour"], []).append(entry)
    for entries in by_hour.values():
        assert [e["path"][-13:-8] for e in entries] == [f"{n:05d}" for n in range(len(entries))]
        assert all(e["rows"] == 500 for e in entries[:-1])
    dataset = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    assert sorted(dataset.column("span_id").to_pylist()) == ids
    hours = {f"{t.hour:02d}" for t in dataset.column("start_timestamp").to_pylist()}
    assert hours == set(by_hour), "every hour with rows has a folder, and only those"


def test_column_partitions_are_escaped_and_left_out_of_the_files(
    reports, out_dir: Path, ids: list[str]
) -> None:
    report = reports["lf_file_sets"]
    assert report.tasks["routes"] == "success", report.task_log("routes")[-3000:]
    root = out_dir / "routes" / DAY_NAME
    manifest = _manifest(root)
    _check_manifest(root, manifest, report.xcom["routes"])
    folders = sorted(str(Path(entry["path"]).parent) for entry in manifest["files"])
    assert folders == [
        f"day={DAY_NAME}/http_route=%2Fapi%2Forders",
        f"day={DAY_NAME}/http_route=%2Fapi%2Forders%2F%7Bid}}",
        f"day={DAY_NAME}/http_route=%2Fhealth%3Ffull%3D1",
        f"day={DAY_NAME}/http_route=__HIVE_DEFAULT_PARTITION__",
    ]
    first = root / manifest["files"][0]["path"]
    assert "http_route" not in json.loads(first.read_text().splitlines()[0]), "Hive keeps keys out of files"
    # DuckDB reads the set back as one table, the routes restored from the folder names.
    rows = duckdb.sql(
        f"SELECT span_id, http_route FROM read_json_auto('{root}/**/*.jsonl', hive_partitioning = true)"
    ).fetchall()
    assert sorted(span_id for span_id, _ in rows) == ids
    routes = {route for _, route in rows}
    assert {"/api/orders", "/api/orders/{id}", "/health?full=1"} <= routes


def test_object_storage_set_is_complete(reports, ids: list[str]) -> None:
    report = reports["lf_file_sets"]
    assert report.tasks["to_memory"] == "success", report.task_log("to_memory")[-3000:]
    found = report.xcom["read_memory_set"]
    manifest = found["manifest"]
    assert found["ids"] == ids
    assert found["files"] == {entry["path"]: entry["rows"] for entry in manifest["files"]}
    assert all(path.endswith(".csv.gz") and path.startswith("hour=") for path in found["files"])
    # universal_pathlib 0.2 (Airflow 3.0, 3.1) spells the memory filesystem's root: memory:///...
    assert (
        report.xcom["to_memory"]["path"].replace("memory:///", "memory://") == f"memory://lf-sets/{DAY_NAME}"
    )


def test_a_rerun_replaces_the_whole_set(reports, out_dir: Path, ids: list[str]) -> None:
    report = reports["lf_set_replace"]
    assert set(report.tasks.values()) == {"success"}, report.log[-3000:]
    root = out_dir / "replace" / DAY_NAME
    small, large = report.xcom["small_parts"], report.xcom["large_parts"]
    assert len(small["files"]) > len(large["files"]), "the first set had more files"
    manifest = _manifest(root)
    _check_manifest(root, manifest, large)
    assert (
        sorted(ds.dataset(root, format="parquet", partitioning="hive").to_table()["span_id"].to_pylist())
        == ids
    )


def test_on_empty_write_skip_fail(reports, out_dir: Path) -> None:
    report = reports["lf_on_empty"]
    assert report.tasks["empty_write"] == "success"
    empty = pq.read_table(out_dir / "empty" / "write.parquet")
    assert empty.num_rows == 0 and empty.schema.names == [
        "span_id",
        "span_name",
        "http_route",
        "level",
        "start_timestamp",
    ]
    assert report.tasks["empty_write_set"] == "success"
    assert _manifest(out_dir / "empty" / "set")["files"][0]["path"] == "records-00000.parquet"
    assert pq.read_table(out_dir / "empty" / "set" / "records-00000.parquet").num_rows == 0
    assert report.tasks["empty_skip"] == "skipped"
    assert not (out_dir / "empty" / "skip.parquet").exists()
    assert report.tasks["empty_fail"] == "failed"
    assert not (out_dir / "empty" / "fail.parquet").exists()
    log = report.task_log("empty_fail")
    assert "EmptyExportError" in log
    assert "no rows in [2030-01-01T00:00:00+00:00, 2030-01-02T00:00:00+00:00)" in log


def test_format_and_compression_are_templated(reports, out_dir: Path, ids: list[str]) -> None:
    report = reports["lf_on_empty"]
    assert report.tasks["templated_format"] == "success", report.task_log("templated_format")[-3000:]
    summary = report.xcom["templated_format"]
    assert summary["format"] == "csv" and summary["path"].endswith("records.csv")
    assert report.rendered["templated_format"]["compression"] == "gzip"
    text = gzip.decompress(Path(summary["path"]).read_bytes()).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["span_id"] for row in rows) == ids


def test_no_secret_in_any_set_run(reports) -> None:
    assert_secrets_absent(reports.values(), SECRET_TOKEN)
