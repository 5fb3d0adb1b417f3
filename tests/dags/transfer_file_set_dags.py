"""DAGs for test_transfer_file_sets.py: exports written as file sets, partitions, on_empty.

Run by `dag.test()` in a subprocess; `LOGFIRE_TEST_OUT` is the directory exports go to. Object
storage is Airflow's `memory://` filesystem, which lives in the subprocess, so a downstream task
reads that set back and returns what it found.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone

from airflow.sdk import dag, task
from airflow.sdk.io import attach
from airflow.timetables.interval import CronDataIntervalTimetable
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())
DAY = "{{ data_interval_start | ds }}"
SCHEDULE = CronDataIntervalTimetable("@daily", timezone="UTC")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: The in-memory filesystem stands in for s3:// and gs://; it lives in this process only.
attach("memory", fs=MemoryFileSystem())
SQL = "SELECT span_id, span_name, http_route, level, start_timestamp FROM records"


@dag(dag_id="lf_file_sets", schedule=SCHEDULE, start_date=START, catchup=False, default_args={"retries": 0})
def file_sets():
    LogfireToFileTransfer(
        task_id="parts",
        sql=SQL,
        destination=f"{OUT}/parts/{DAY}/records-{{part}}.parquet",
        max_rows_per_file=3_000,
    )
    LogfireToFileTransfer(
        task_id="hours",
        sql=SQL,
        destination=f"{OUT}/hours/{DAY}/records-{{part}}.parquet",
        partition_by=["hour"],
        max_rows_per_file=500,
    )
    LogfireToFileTransfer(
        task_id="routes",
        sql=SQL,
        destination=f"{OUT}/routes/{DAY}/records.jsonl",
        format="jsonl",
        partition_by=["day", "http_route"],
    )
    to_memory = LogfireToFileTransfer(
        task_id="to_memory",
        sql=SQL,
        destination="memory://lf-sets/" + DAY + "/records-{part}.csv.gz",
        format="csv",
        compression="gzip",
        partition_by=["hour"],
        max_rows_per_file=1_000,
    )

    @task
    def read_memory_set(summary: dict) -> dict:
        """What the memory:// set holds: its files, their rows and ids, and its manifest."""
        import csv
        import gzip
        import io
        import json

        from airflow.sdk import ObjectStoragePath

        root = ObjectStoragePath(summary["path"])
        manifest = json.loads((root / "_SUCCESS").read_text())
        files, ids = {}, []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = str(path)[len(str(root)) + 1 :]
            if relative == "_SUCCESS":
                continue
            rows = list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
            files[relative] = len(rows)
            ids += [row["span_id"] for row in rows]
        return {"manifest": manifest, "files": files, "ids": sorted(ids)}

    read_memory_set(to_memory.output)


@dag(
    dag_id="lf_set_replace",
    schedule=SCHEDULE,
    start_date=START,
    catchup=False,
    default_args={"retries": 0},
)
def set_replace():
    """The same set written twice: first in small parts, then in large ones."""
    small, large = (
        LogfireToFileTransfer(
            task_id=task_id,
            sql=SQL,
            destination=f"{OUT}/replace/{DAY}/records-{{part}}.parquet",
            partition_by=["hour"],
            max_rows_per_file=rows,
        )
        for task_id, rows in (("small_parts", 700), ("large_parts", 4_000))
    )
    small >> large


@dag(
    dag_id="lf_on_empty",
    schedule=SCHEDULE,
    start_date=START,
    catchup=False,
    default_args={"retries": 0},
    params={"format": "parquet"},
)
def on_empty():
    """A window without rows: written, skipped, failed; and a format chosen by a template."""
    window = {"min_timestamp": "2030-01-01T00:00:00Z", "max_timestamp": "2030-01-02T00:00:00Z"}
    LogfireToFileTransfer(task_id="empty_write", sql=SQL, destination=f"{OUT}/empty/write.parquet", **window)
    LogfireToFileTransfer(
        task_id="empty_write_set",
        sql=SQL,
        destination=f"{OUT}/empty/set/records-{{part}}.parquet",
        max_rows_per_file=10,
        **window,
    )
    LogfireToFileTransfer(
        task_id="empty_skip", sql=SQL, destination=f"{OUT}/empty/skip.parquet", on_empty="skip", **window
    )
    LogfireToFileTransfer(
        task_id="empty_fail", sql=SQL, destination=f"{OUT}/empty/fail.parquet", on_empty="fail", **window
    )
    LogfireToFileTransfer(
        task_id="templated_format",
        sql=SQL,
        destination=f"{OUT}/templated/{DAY}/records.{{{{ params.format }}}}",
        format="{{ params.format }}",
        compression="{{ 'gzip' if params.format == 'csv' else 'zstd' }}",
    )


file_sets()
set_replace()
on_empty()
