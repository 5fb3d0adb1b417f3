"""LogfireToFileTransfer's asset events, and the example DAG chain that runs on them.

`example_dags/logfire_asset_export.py` exports an hour of errors with an outlet `Asset`;
`example_dags/logfire_asset_consumer.py` is scheduled on that asset. `support/run_asset_chain.py`
runs the export with `dag.test()`, reads the `AssetEvent` and `AssetDagRunQueue` rows from
Airflow's database, lets the scheduler's own code turn the queue into the consumer's run, and runs
that run's tasks, which read the event's `extra`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire._airflow.assets import MAX_EVENT_FILES, export_event_extra
from airflow_provider_logfire.local.testing import LocalServer
from tests.conftest import (
    DAG_TEST_OUTPUT_ENV,
    fresh_airflow_home,
    without_airflow_30_in_process_mask_messages,
)
from tests.support.dag_tasks import LOGICAL_DATE, SECRET_TOKEN, connection_env, records_table

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
CHAIN = Path(__file__).resolve().parents[1] / "support" / "run_asset_chain.py"
#: The hourly export's run at LOGICAL_DATE reads the hour before it.
HOUR_START = LOGICAL_DATE - timedelta(hours=1)
ERRORS_IN_HOUR = 7


def run_chain(work: Path, env: dict[str, str]) -> dict[str, Any]:
    dags = work / "dags"
    dags.mkdir(parents=True)
    for name in ("logfire_asset_export.py", "logfire_asset_consumer.py"):
        shutil.copy(EXAMPLES / name, dags / name)
    spec, out = work / "spec.json", work / "out.json"
    spec.write_text(
        json.dumps(
            {
                "dags_folder": str(dags),
                "producer": {"dag_id": "logfire_asset_export", "logical_date": LOGICAL_DATE.isoformat()},
                "consumer": "logfire_asset_consumer",
                "asset": "logfire_error_exports",
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, str(CHAIN), str(spec), str(out)],
        env={
            **os.environ,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            # A paused DAG is never queued by an asset event; a new DAG is paused by default.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            **DAG_TEST_OUTPUT_ENV,
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    log = without_airflow_30_in_process_mask_messages(proc.stdout)
    assert proc.returncode == 0 and out.exists(), log[-6000:]
    return {**json.loads(out.read_text()), "log": log}


@pytest.fixture(scope="module")
def chain(server: LocalServer, airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    step = timedelta(hours=1) / ERRORS_IN_HOUR
    errors = [HOUR_START + i * step for i in range(ERRORS_IN_HOUR)]
    server.engine.insert_arrow("records", records_table(errors, id_prefix="err", level=[17] * ERRORS_IN_HOUR))
    # Not exported: an info row in the hour, errors just outside it (one exactly at its end).
    server.engine.insert_arrow("records", records_table([HOUR_START + step / 2], id_prefix="info", level=[9]))
    outside = [HOUR_START - timedelta(microseconds=1), LOGICAL_DATE]
    server.engine.insert_arrow("records", records_table(outside, id_prefix="out", level=[17, 17]))
    work = tmp_path_factory.mktemp("asset_chain")
    export_root = work / "exports"
    # A database of its own: the chain asserts every event of the asset and the whole queue, and
    # the example DAGs' runs elsewhere in the suite emit events for the same asset.
    env = {
        **fresh_airflow_home(airflow_db, work / "airflow-home"),
        **connection_env("logfire_default", server.url),
        "LOGFIRE_EXPORT_ROOT": str(export_root),
    }
    result = run_chain(work, env)
    result["export_root"] = export_root
    return result


def test_the_export_emits_an_asset_event_with_its_files_rows_and_window(chain: dict[str, Any]) -> None:
    assert chain["producer_state"] == "success", chain["log"][-6000:]
    (event,) = chain["events"]
    assert event["source_dag_id"] == "logfire_asset_export"
    extra = event["extra"]
    expected_file = chain["export_root"] / "errors" / "date=2026-11-27" / "hour=23" / "errors.parquet"
    assert extra["files"] == [str(expected_file)] and extra["file_count"] == 1
    assert extra["path"] == str(expected_file) and extra["format"] == "parquet"
    assert extra["rows"] == ERRORS_IN_HOUR == pq.read_metadata(expected_file).num_rows
    assert extra["bytes"] == expected_file.stat().st_size
    assert (extra["min_timestamp"], extra["max_timestamp"]) == (
        HOUR_START.isoformat(),
        LOGICAL_DATE.isoformat(),
    )
    assert "files_truncated" not in extra
    assert SECRET_TOKEN not in json.dumps(chain["events"]) and SECRET_TOKEN not in chain["log"]


def test_the_event_queues_the_consumer_and_its_run_reads_the_files(chain: dict[str, Any]) -> None:
    assert chain["queued_for"] == ["logfire_asset_consumer"]
    assert chain["consumer_run_type"] == "asset_triggered" and chain["consumed_events"] == 1
    assert chain["queued_after"] == 0  # the scheduler consumed the queue
    assert chain["consumer_state"] == "success", chain["log"][-6000:]
    assert chain["consumer_tasks"] == {"count_exported_rows": "success"}
    assert chain["consumer_xcom"]["count_exported_rows"] == {
        "events": 1,
        "files": 1,
        "rows": ERRORS_IN_HOUR,
        "announced": ERRORS_IN_HOUR,
        "windows": [[HOUR_START.isoformat(), LOGICAL_DATE.isoformat()]],
    }


def test_a_large_file_set_is_summarised_in_the_extra() -> None:
    files = [f"s3://bucket/logfire/date=2026-11-27/part-{i:05d}.parquet" for i in range(MAX_EVENT_FILES + 50)]
    summary = {
        "path": "s3://bucket/logfire/date=2026-11-27",
        "files": files,
        "format": "parquet",
        "rows": 1_500_000,
        "requests": 170,
        "bytes": 123,
        "min_timestamp": "2026-11-27T00:00:00+00:00",
        "max_timestamp": "2026-11-28T00:00:00+00:00",
        "manifest": "s3://bucket/logfire/date=2026-11-27/_SUCCESS",
    }
    extra = export_event_extra(summary)
    assert extra["files"] == files[:MAX_EVENT_FILES] and extra["files_truncated"] is True
    assert extra["file_count"] == len(files) and extra["manifest"] == summary["manifest"]
    assert "requests" not in extra
    assert len(json.dumps(extra)) < 10_000
    assert "files_truncated" not in export_event_extra({**summary, "files": files[:3]})
