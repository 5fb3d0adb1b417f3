"""The main job: every day, wait for yesterday's Logfire data, export it to Parquet, summarise it.

- A data-interval timetable, so each run's window is exactly one UTC day ([00:00, 24:00)).
- The sensor waits (deferred, in the triggerer) until the day has rows.
- The export writes `records` for the day as a file set partitioned by hour,
  `<export_root>/records/date=YYYY-MM-DD/hour=HH/records.parquet`, with a `_SUCCESS` manifest in
  `date=YYYY-MM-DD/` written last: Hive-style folders that Spark, DuckDB, Athena or BigQuery read
  as one table, and that readers trust only once `_SUCCESS` is there.
- A summary query (rows per service and level) is logged and returned as XCom.

`export_root` is a DAG param: a local folder by default (env LOGFIRE_EXPORT_ROOT), or any object
storage URL such as `s3://my-bucket/logfire` (then set `dest_conn_id` on the export).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import Param, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

EXPORT_ROOT = os.environ.get("LOGFIRE_EXPORT_ROOT", os.path.expanduser("~/logfire-exports"))


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={"export_root": Param(EXPORT_ROOT, type="string", description="Folder or object storage URL")},
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["logfire", "export"],
)
def logfire_daily_export():
    wait_for_data = LogfireDataAvailableSensor(
        task_id="wait_for_data",
        deferrable=True,
        poke_interval=60,
        timeout=6 * 60 * 60,
    )

    export_records = LogfireToFileTransfer(
        task_id="export_records",
        sql="SELECT * FROM records",
        destination="{{ params.export_root }}/records/date={{ data_interval_start | ds }}/records.parquet",
        partition_by=["hour"],
        format="parquet",
        compression="zstd",
    )

    summarize = LogfireQueryOperator(
        task_id="summarize",
        sql="""
            SELECT service_name, level, count(*) AS rows
            FROM records
            GROUP BY service_name, level
            ORDER BY service_name, level
        """,
    )

    @task
    def report(export: dict, summary: list[dict]) -> dict:
        """Log what was exported and how it breaks down; the return value is the run's record."""
        print(
            f"Exported {export['rows']:,} rows in {export['requests']} requests to {len(export['files'])} "
            f"file(s) under {export['path']}"
        )
        print(f"{'service':<20} {'level':>5} {'rows':>10}")
        for row in summary:
            print(f"{row['service_name']:<20} {row['level']:>5} {row['rows']:>10,}")
        return {
            "path": export["path"],
            "rows": export["rows"],
            "services": len({r["service_name"] for r in summary}),
        }

    wait_for_data >> [export_records, summarize]
    report(export_records.output, summarize.output)


logfire_daily_export()
