"""The example DAGs load cleanly and run end to end through `dag.test()` against the local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"
DAG_FILES = sorted(EXAMPLES.glob("*.py"))
TOKEN = "pylf_v1_us_ExAmPlEsEcReT42"
#: dag.test(logical_date=DAY_END) with a data-interval timetable runs the interval ending there.
DAY_END = datetime(2026, 11, 27, tzinfo=timezone.utc)
ROWS_PER_DAY = 15_000


def test_every_example_dag_loads_without_errors_or_warnings(airflow_db, tmp_path):
    script = (
        "import json, sys, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    from airflow.models.dagbag import DagBag\n"
        "    bag = DagBag(dag_folder=sys.argv[1])\n"
        "mine = [str(w.message) for w in caught if 'example_dags' in str(w.filename)]\n"
        "print(json.dumps({'dags': sorted(bag.dag_ids), 'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'warnings': mine}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLES)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["warnings"] == []
    assert report["dags"] == sorted(p.stem for p in DAG_FILES)


def test_example_dags_run_end_to_end(run_dags, tmp_path):
    engine = LocalEngine()
    engine.load_demo(days=3, rows_per_day=ROWS_PER_DAY, seed=11, end=DAY_END)
    export_root = tmp_path / "exports"
    with run_local_server(engine, token=TOKEN) as server:
        reports = run_dags(
            DAG_FILES,
            [{"dag_id": path.stem, "logical_date": DAY_END.isoformat()} for path in DAG_FILES],
            env={
                "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                    {"conn_type": "logfire", "host": server.url, "password": TOKEN}
                ),
                "LOGFIRE_EXPORT_ROOT": str(export_root),
            },
        )
        with LogfireClient.from_token(TOKEN, base_url=server.url) as client:
            last_hour_errors = client.query_json_rows(
                "SELECT count(*) AS n FROM records WHERE level >= 17",
                min_timestamp=DAY_END - timedelta(hours=1),
                max_timestamp=DAY_END,
            )["rows"][0]["n"]
    runs = {r.dag_id: r for r in reports}
    for report in reports:
        assert report.state == "success", (report.dag_id, report.tasks, report.log[-4000:])
        assert TOKEN not in report.log
        assert TOKEN not in json.dumps(report.xcom)
        assert TOKEN not in json.dumps(report.rendered, default=str)

    daily = runs["logfire_daily_export"]
    exported = daily.xcom["export_records"]
    assert exported["rows"] == ROWS_PER_DAY
    assert exported["min_timestamp"] == "2026-11-26T00:00:00+00:00"
    root = export_root / "records" / "date=2026-11-26"
    assert exported["path"] == str(root)
    hours = sorted(root.glob("hour=*/records.parquet"))
    assert exported["files"] == [str(path) for path in hours] and len(hours) == 24
    assert sum(pq.read_metadata(path).num_rows for path in hours) == ROWS_PER_DAY
    manifest = json.loads((root / "_SUCCESS").read_text())
    assert manifest["rows"] == ROWS_PER_DAY and manifest["partition_by"] == ["hour"]
    assert sum(row["rows"] for row in daily.xcom["summarize"]) == ROWS_PER_DAY
    assert daily.xcom["report"]["rows"] == ROWS_PER_DAY

    fanout = runs["logfire_hourly_fanout"]
    assert fanout.xcom["total"]["files"] == 24
    assert fanout.xcom["total"]["rows"] == ROWS_PER_DAY
    hour_files = sorted((export_root / "records_hourly" / "date=2026-11-26").glob("hour=*/records.parquet"))
    assert len(hour_files) == 24
    assert sum(pq.read_metadata(f).num_rows for f in hour_files) == ROWS_PER_DAY

    report = runs["logfire_error_report"].xcom["build_report"]
    assert report["total"] > 0
    assert report["worst"]["occurrences"] >= 1

    templated = runs["logfire_templated_sql"]
    rendered_sql = templated.rendered["errors_by_route"]["sql"]
    assert "{{" not in rendered_sql
    assert "level >= 17" in rendered_sql
    assert templated.rendered["errors_by_route"]["environment"] == "prod"
    assert isinstance(templated.xcom["errors_by_route"], list)
    assert len(templated.xcom["slowest_spans"]) == 20

    # The asset pair and the watcher DAG, as dag.test() runs them: no triggering events there (the
    # chain itself runs in tests/transfers/test_transfer_assets.py and the e2e run).
    errors = runs["logfire_asset_export"].xcom["export_errors"]
    assert errors["rows"] == last_hour_errors  # the demo's night hour may have none: a file with the columns
    assert errors["files"] == [str(export_root / "errors" / "date=2026-11-26" / "hour=23" / "errors.parquet")]
    assert pq.read_metadata(errors["files"][0]).num_rows == last_hour_errors
    assert runs["logfire_asset_consumer"].xcom["count_exported_rows"]["events"] == 0
    assert runs["logfire_new_errors"].xcom["summarise_new_errors"] == {
        "batches": 0,
        "errors": 0,
        "messages": {},
    }
