"""DAGs for test_transfer_failures.py: a failed export leaves the previous file; re-runs replace it.

Run by `dag.test()` in a subprocess; `LOGFIRE_TEST_OUT` is the directory exports go to. The run's
`conf` picks the Logfire connection, so the same DAG and interval can run once through a
fault-injecting proxy. After each export, `inspect` (which runs even when the export failed)
records what the destination directory holds at that moment.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())
DESTINATION = OUT + "/{{ data_interval_start | ds }}/records.parquet"
SCHEDULE = CronDataIntervalTimetable("@daily", timezone="UTC")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@task(trigger_rule="all_done")
def inspect() -> dict:
    """The destination directory's files, and the export's identity (inode), size and row ids."""
    import hashlib
    from pathlib import Path

    import pyarrow.parquet as pq

    directory = Path(OUT) / get_current_context()["data_interval_start"].strftime("%Y-%m-%d")
    files = sorted(p.name for p in directory.iterdir()) if directory.exists() else []
    path = directory / "records.parquet"
    if not path.exists():
        return {"files": files}
    ids = sorted(pq.read_table(path, columns=["span_id"]).column("span_id").to_pylist())
    return {
        "files": files,
        "inode": path.stat().st_ino,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(ids),
        "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
    }


@dag(
    dag_id="lf_export_retry",
    schedule=SCHEDULE,
    start_date=START,
    catchup=False,
    default_args={"retries": 0},
    params={"conn_id": "logfire_default"},
)
def export_retry():
    export = LogfireToFileTransfer(
        task_id="export",
        destination=DESTINATION,
        logfire_conn_id="{{ params.conn_id }}",
        max_concurrency=1,  # pieces in order, so the injected faults hit a known piece
    )
    export >> inspect()


@dag(dag_id="lf_if_exists", schedule=SCHEDULE, start_date=START, catchup=False, default_args={"retries": 0})
def if_exists():
    skip = LogfireToFileTransfer(task_id="skip_existing", destination=DESTINATION, if_exists="skip")
    fail = LogfireToFileTransfer(task_id="fail_existing", destination=DESTINATION, if_exists="fail")
    [skip, fail] >> inspect()


export_retry()
if_exists()
