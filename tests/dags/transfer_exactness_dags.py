"""DAGs for test_transfer_exactness.py: a day of 100,000+ rows exported exactly, and a crowded instant.

Run by `dag.test()` in a subprocess; `LOGFIRE_TEST_OUT` is the directory exports go to.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())


@dag(
    dag_id="lf_exact_daily",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 0},
)
def exact_daily():
    LogfireToFileTransfer(
        task_id="export_day",
        destination=OUT + "/day/{{ data_interval_start | ds }}/records.parquet",
    )
    # A day (outside the run's interval, so given explicitly) where a full page shares one instant.
    LogfireToFileTransfer(
        task_id="export_crowded",
        destination=OUT + "/crowded/records.parquet",
        min_timestamp="2026-11-20T00:00:00Z",
        max_timestamp="2026-11-21T00:00:00Z",
    )


exact_daily()
