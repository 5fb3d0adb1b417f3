"""DAGs for test_query_exact_window.py: LogfireQueryOperator reading exactly its run's day.

Run by `dag.test()` in a subprocess, against servers whose API bounds are not half-open.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator

COUNT = "SELECT count(*) AS n FROM records"


@dag(
    dag_id="lf_query_window",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 0},
)
def query_window():
    LogfireQueryOperator(task_id="count_records", sql=COUNT)
    LogfireQueryOperator(task_id="span_ids", sql="SELECT span_id FROM records ORDER BY span_id")
    LogfireQueryOperator(
        task_id="span_ids_csv", sql="SELECT span_id FROM records ORDER BY 1", output_format="csv"
    )
    LogfireQueryOperator(task_id="count_metrics", sql="SELECT count(*) AS n FROM metrics;")
    LogfireQueryOperator(
        task_id="with_ctes",
        sql="""
            -- errors of the day, and the day's metric points
            WITH errors AS (SELECT span_id FROM records WHERE level >= 'error')
            SELECT (SELECT count(*) FROM errors) AS errors, (SELECT count(*) FROM metrics) AS points
        """,
    )
    LogfireQueryOperator(
        task_id="span_ids_as_written", sql="SELECT span_id FROM records ORDER BY 1", exact_window=False
    )
    LogfireQueryOperator(
        task_id="recursive",
        sql=(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2) "
            "SELECT i, (SELECT count(*) FROM records) AS c FROM n ORDER BY i"
        ),
    )


query_window()
