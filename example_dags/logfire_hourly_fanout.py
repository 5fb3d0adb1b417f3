"""A large day, spread over many workers: one mapped export task per hour.

Dynamic task mapping turns the day into 24 independent tasks (`expand_kwargs`), each exporting its
own hour to its own file. With the Celery or Kubernetes executor they run on as many workers as
you have, retry independently, and a re-run of one hour rewrites only that hour's file — the way
past what one machine can fetch in a day. `max_active_tis_per_dag` caps the load on Logfire.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

EXPORT_ROOT = os.environ.get("LOGFIRE_EXPORT_ROOT", os.path.expanduser("~/logfire-exports"))


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2)},
    tags=["logfire", "export", "mapping"],
)
def logfire_hourly_fanout():
    @task
    def hourly_windows() -> list[dict[str, str]]:
        """One kwargs dict per hour of the run's data interval: window bounds and destination."""
        context = get_current_context()
        start, end = context["data_interval_start"], context["data_interval_end"]
        hours = []
        t = start
        while t < end:
            nxt = min(t + timedelta(hours=1), end)
            hours.append(
                {
                    "min_timestamp": t.isoformat(),
                    "max_timestamp": nxt.isoformat(),
                    "destination": f"{EXPORT_ROOT}/records_hourly/date={t:%Y-%m-%d}/hour={t:%H}/records.parquet",
                }
            )
            t = nxt
        return hours

    exports = LogfireToFileTransfer.partial(
        task_id="export_hour",
        sql="SELECT * FROM records",
        max_active_tis_per_dag=8,
    ).expand_kwargs(hourly_windows())

    @task
    def total(summaries: list[dict]) -> dict:
        """All hours together: the day's row and request counts."""
        summaries = list(summaries)
        return {
            "files": len(summaries),
            "rows": sum(s["rows"] for s in summaries),
            "requests": sum(s["requests"] for s in summaries),
        }

    total(exports.output)


logfire_hourly_fanout()
