"""DAGs for test_query_operator.py: LogfireQueryOperator's outputs, templated SQL and failures.

Run by `dag.test()` in a subprocess; `sql/` beside this file holds the templated `.sql` query.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator

PER_SERVICE = (
    "SELECT service_name, count(*) AS n, max(level) AS max_level, min(start_timestamp) AS first_seen "
    "FROM records GROUP BY service_name ORDER BY service_name"
)
IDS = "SELECT span_id FROM records ORDER BY span_id"


@dag(
    dag_id="lf_query",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 0},
)
def query():
    for output_format in ("rows", "columns", "csv"):
        LogfireQueryOperator(task_id=f"as_{output_format}", sql=PER_SERVICE, output_format=output_format)
    LogfireQueryOperator(task_id="from_sql_file", sql="sql/errors_by_service.sql", params={"min_level": 17})
    LogfireQueryOperator(task_id="fills_limit", sql=IDS, limit=5)
    LogfireQueryOperator(task_id="fills_limit_csv", sql=IDS, limit=5, output_format="csv")
    LogfireQueryOperator(task_id="under_limit", sql=IDS, limit=10_000)
    LogfireQueryOperator(task_id="fills_limit_strict", sql=IDS, limit=5, fail_on_truncation=True)
    LogfireQueryOperator(task_id="bad_sql", sql="SELECT no_such_column FROM records")


query()
