"""DAGs for test_transfer_s3.py: exports to s3:// through the Amazon provider and s3fs.

Run by `dag.test()` in a subprocess. `LOGFIRE_TEST_BUCKET` names the bucket; the `aws_default`
connection (from the environment) points at the test's local S3-compatible server.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

BUCKET = os.environ.get("LOGFIRE_TEST_BUCKET", "lf-test")
ROOT = f"s3://{BUCKET}"
DAY = "{{ data_interval_start | ds }}"
SCHEDULE = CronDataIntervalTimetable("@daily", timezone="UTC")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
ARGS = {"retries": 0, "dest_conn_id": "aws_default"}
SQL = "SELECT span_id, span_name, start_timestamp FROM records"
IDS = "SELECT span_id, start_timestamp FROM records"


@dag(dag_id="lf_s3_big", schedule=SCHEDULE, start_date=START, catchup=False, default_args=ARGS)
def big():
    LogfireToFileTransfer(
        task_id="jsonl", sql=SQL, destination=f"{ROOT}/big/{DAY}/records.jsonl", format="jsonl"
    )


@dag(dag_id="lf_s3_if_exists", schedule=SCHEDULE, start_date=START, catchup=False, default_args=ARGS)
def if_exists():
    for policy in ("replace", "skip", "fail"):
        LogfireToFileTransfer(
            task_id=f"{policy}_existing",
            sql=IDS,
            destination=f"{ROOT}/existing/{policy}.parquet",
            if_exists=policy,
        )
        LogfireToFileTransfer(
            task_id=f"{policy}_absent",
            sql=IDS,
            destination=f"{ROOT}/absent/{policy}.parquet",
            if_exists=policy,
        )


@dag(dag_id="lf_s3_sets", schedule=SCHEDULE, start_date=START, catchup=False, default_args=ARGS)
def sets():
    LogfireToFileTransfer(
        task_id="hours",
        sql=SQL,
        destination=f"{ROOT}/sets/{DAY}/records-{{part}}.parquet",
        partition_by=["hour"],
        max_rows_per_file=8_000,
    )
    for policy in ("skip", "fail", "replace"):
        LogfireToFileTransfer(
            task_id=f"set_{policy}",
            sql=IDS,
            destination=f"{ROOT}/set-{policy}/records-{{part}}.parquet",
            max_rows_per_file=30_000,
            if_exists=policy,
        )


@dag(dag_id="lf_s3_slow", schedule=SCHEDULE, start_date=START, catchup=False, default_args=ARGS)
def slow():
    LogfireToFileTransfer(
        task_id="jsonl",
        sql=SQL,
        destination=f"{ROOT}/slow/{DAY}/records.jsonl",
        format="jsonl",
        max_concurrency=1,
    )


big()
if_exists()
sets()
slow()
