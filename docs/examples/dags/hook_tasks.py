"""The hook in TaskFlow tasks, and Airflow's generic SQL operators on a `logfire` connection."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "docs"],
)
def logfire_hook_tasks():
    # --8<-- [start:task]
    @task
    def slowest_routes() -> list[dict]:
        """p95 latency per route over the run's window, as a small XCom."""
        import polars as pl

        from airflow_provider_logfire.hooks.logfire import LogfireHook

        # Inside a task, get_df reads the run's window unless given min_timestamp/max_timestamp.
        # At most 10,000 rows come back: aggregate in SQL, or export, for more.
        df = LogfireHook().get_df(
            "SELECT http_route, duration FROM records WHERE http_route IS NOT NULL AND kind = 'span'",
            df_type="polars",
        )
        summary = df.group_by("http_route").agg(
            pl.len().alias("requests"), pl.col("duration").quantile(0.95).alias("p95_seconds")
        )
        return summary.sort("p95_seconds", descending=True).head(5).to_dicts()

    # --8<-- [end:task]

    # --8<-- [start:common_sql]
    # common-sql operators take a `logfire` connection; each query reads the run's window.
    has_errors = SqlSensor(
        task_id="has_errors",
        conn_id="logfire_default",
        sql="SELECT count(*) FROM records WHERE level >= 17",  # truthy first cell: done
        poke_interval=5 * 60,
        timeout=60 * 60,
    )
    errors_by_service = SQLExecuteQueryOperator(
        task_id="errors_by_service",
        conn_id="logfire_default",
        sql="SELECT service_name, count(*) AS n FROM records WHERE level >= %(level)s GROUP BY 1 ORDER BY 1",
        parameters={"level": 17},
    )
    # --8<-- [end:common_sql]

    has_errors >> errors_by_service
    slowest_routes()


logfire_hook_tasks()
