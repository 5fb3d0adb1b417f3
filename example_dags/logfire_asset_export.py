"""Export each hour's errors to Parquet and announce the files as an asset event.

The transfer's outlet `Asset` gets one asset event per successful export, with the exported
files, row count and window in its `extra`. `logfire_asset_consumer.py` is scheduled on that
asset: it runs after each export and reads the files the event names, so the downstream job
never guesses paths or polls for them.

`LOGFIRE_EXPORT_ROOT` (env) is the export folder (default `~/logfire-exports`); an object storage
URL such as `s3://my-bucket/logfire` works too (then set `dest_conn_id`).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import Asset, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

EXPORT_ROOT = os.environ.get("LOGFIRE_EXPORT_ROOT", os.path.expanduser("~/logfire-exports"))
#: The asset both DAGs name; the consumer defines the same one.
ERROR_EXPORTS = Asset("logfire_error_exports")


@dag(
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "export", "assets"],
)
def logfire_asset_export():
    LogfireToFileTransfer(
        task_id="export_errors",
        sql="SELECT * FROM records WHERE level >= 'error'",
        destination=EXPORT_ROOT
        + "/errors/date={{ data_interval_start | ds }}/hour={{ data_interval_start.strftime('%H') }}"
        + "/errors.parquet",
        outlets=[ERROR_EXPORTS],
    )


logfire_asset_export()
