"""LogfireToFileTransfer's options: formats and compressions, metrics, environments, if_exists,
file sets (parts and Hive partitions), empty windows and templated formats."""

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
    params={"format": "parquet"},
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

    # --8<-- [start:file_set]
    # records/date=.../hour=00/records-00000.parquet, -00001, ..., hour=01/..., then _SUCCESS.
    LogfireToFileTransfer(
        task_id="hourly_parts",
        destination=f"{EXPORT_ROOT}/records_set/{DAY}/records-{{part}}.parquet",
        partition_by=["hour"],
        max_rows_per_file=500,  # at most 500 rows a file, numbered per hour from 00000
    )
    # --8<-- [end:file_set]

    # --8<-- [start:partition_columns]
    # errors_by_service/date=.../service_name=checkout/level=17/errors.jsonl: the two partition
    # columns live in the folder names, not in the files (as Hive, Spark and Athena expect).
    LogfireToFileTransfer(
        task_id="errors_by_service",
        sql="SELECT start_timestamp, service_name, level, message FROM records WHERE level >= 17",
        destination=f"{EXPORT_ROOT}/errors_by_service/{DAY}/errors.jsonl",
        format="jsonl",
        partition_by=["service_name", "level"],
    )
    # --8<-- [end:partition_columns]

    # --8<-- [start:on_empty]
    # A day without fatal records from the payments service writes nothing: the task is skipped.
    LogfireToFileTransfer(
        task_id="fatal_only",
        sql="SELECT * FROM records WHERE level >= 21 AND service_name = 'payments'",
        destination=f"{EXPORT_ROOT}/fatal/{DAY}/fatal.parquet",
        on_empty="skip",
    )
    # --8<-- [end:on_empty]

    # --8<-- [start:templated_format]
    # The format is a DAG param, so a run can ask for CSV: trigger with {"format": "csv"}.
    LogfireToFileTransfer(
        task_id="chosen_format",
        destination=f"{EXPORT_ROOT}/chosen/{DAY}/records.{{{{ params.format }}}}",
        format="{{ params.format }}",
    )
    # --8<-- [end:templated_format]


logfire_transfer_options()
