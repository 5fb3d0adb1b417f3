"""Yesterday's Logfire records as a Parquet file, every day."""

import os
from datetime import datetime

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

EXPORT_ROOT = os.environ.get("LOGFIRE_EXPORT_ROOT", "/tmp/logfire-exports")


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
)
def logfire_quickstart():
    LogfireToFileTransfer(
        task_id="export_records",
        destination=EXPORT_ROOT + "/records/date={{ data_interval_start | ds }}/records.parquet",
    )


logfire_quickstart()
