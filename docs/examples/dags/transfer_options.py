"""LogfireToFileTransfer's options: formats and compressions, metrics, environments, if_exists."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

EXPORT_ROOT = os.environ.get("LOGFIRE_EXPORT_ROOT", "/tmp/logfire-exports")
DAY = "date={{ data_interval_start | ds }}"


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "docs"],
)
def logfire_transfer_options():
    # --8<-- [start:formats]
    LogfireToFileTransfer(
        task_id="errors_csv",
        sql="SELECT start_timestamp, service_name, message, exception_type, tags FROM records WHERE level >= 17",
        destination=f"{EXPORT_ROOT}/errors/{DAY}/errors.csv.gz",
        format="csv",
        compression="gzip",
    )
    LogfireToFileTransfer(
        task_id="spans_jsonl",
        sql="SELECT start_timestamp, trace_id, span_id, span_name, duration, attributes FROM records WHERE kind = 'span'",
        destination=f"{EXPORT_ROOT}/spans/{DAY}/spans.jsonl.zst",
        format="jsonl",
        compression="zstd",
    )
    LogfireToFileTransfer(
        task_id="records_arrow",
        destination=f"{EXPORT_ROOT}/records/{DAY}/records.arrow",
        format="arrow",
        compression="lz4",
    )
    # --8<-- [end:formats]

    # --8<-- [start:metrics]
    LogfireToFileTransfer(
        task_id="metrics_parquet",
        sql="SELECT * FROM metrics",
        time_column="recorded_timestamp",  # metrics are windowed and split on recorded_timestamp
        destination=f"{EXPORT_ROOT}/metrics/{DAY}/metrics.parquet",
    )
    # --8<-- [end:metrics]

    # --8<-- [start:environment]
    LogfireToFileTransfer(
        task_id="prod_only",
        environment="prod",
        destination=f"{EXPORT_ROOT}/records_prod/{DAY}/records.parquet",
        compression="zstd",
        max_concurrency=8,  # pieces fetched at once; a 429 makes all of them back off together
    )
    # --8<-- [end:environment]

    # --8<-- [start:if_exists]
    # Write once, never overwrite: a re-run finds the file and returns {"skipped": True, ...}.
    LogfireToFileTransfer(
        task_id="archive_once",
        destination=f"{EXPORT_ROOT}/archive/{DAY}/records.parquet",
        if_exists="skip",
    )
    # --8<-- [end:if_exists]


logfire_transfer_options()
