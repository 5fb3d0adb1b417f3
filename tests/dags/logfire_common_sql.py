"""Airflow's generic SQL operators on a `logfire` connection (used by tests/test_common_sql.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.hooks.logfire import LogfireHook


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
)
def logfire_common_sql():
    wait = SqlSensor(
        task_id="wait",
        conn_id="logfire_default",
        sql="SELECT count(*) FROM records",
        poke_interval=1,
        timeout=60,
    )
    by_service = SQLExecuteQueryOperator(
        task_id="by_service",
        conn_id="logfire_default",
        sql="SELECT service_name, count(*) AS n FROM records WHERE level >= %(level)s GROUP BY 1 ORDER BY 1",
        parameters={"level": 9},
    )

    @task
    def through_the_hook() -> dict:
        hook = LogfireHook()
        first = hook.get_first("SELECT count(*) FROM records")
        records = hook.get_records("SELECT DISTINCT service_name FROM records ORDER BY 1")
        df = hook.get_df("SELECT service_name, level FROM records WHERE service_name = %s", ["checkout"])
        start, end = hook.query_window()
        return {
            "count": first[0],
            "services": [r[0] for r in records],
            "df_rows": len(df),
            "df_services": sorted(set(df["service_name"])),
            "window": [start.isoformat(), end.isoformat()],
        }

    @task
    def last_hour_via_hook_params(data_interval_end=None) -> int:
        # Only a start given: the window runs from it to the run's interval end.
        hook = LogfireHook(min_timestamp=data_interval_end - timedelta(hours=1))
        return hook.get_first("SELECT count(*) FROM records")[0]

    wait >> [by_service, through_the_hook(), last_hour_via_hook_params()]


logfire_common_sql()
