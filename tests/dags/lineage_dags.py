"""DAGs for test_lineage_and_links.py: OpenLineage events and the "Logfire" link of both operators.

Exports go under $LINEAGE_EXPORT_ROOT. Connections: `logfire_default` is the local server as it
is (no web UI known), `logfire_eu_ui` and `logfire_us_ui` are the same server with the `ui_url`
extra of a region's UI (a region's own host cannot be pointed at a local server).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

ROOT = os.environ.get("LINEAGE_EXPORT_ROOT", "/tmp/lineage-exports")
#: A CTE over `records`, a join with `metrics`, a bound parameter: the tables are records and metrics.
ERRORS_SQL = (
    "WITH errors AS (SELECT service_name FROM records WHERE level >= %(min_level)s) "
    "SELECT e.service_name, count(*) AS n FROM errors e "
    "LEFT JOIN (SELECT DISTINCT service_name FROM metrics) m ON m.service_name = e.service_name "
    "GROUP BY e.service_name ORDER BY e.service_name"
)
EXPORT_SQL = "SELECT span_id, service_name, level, start_timestamp FROM records"

DAILY = {
    "schedule": CronDataIntervalTimetable("@daily", timezone="UTC"),
    "start_date": datetime(2026, 1, 1, tzinfo=timezone.utc),
    "catchup": False,
    "default_args": {"retries": 0},
}


@dag(dag_id="lf_lineage", **DAILY)
def lineage():
    LogfireQueryOperator(task_id="errors", sql=ERRORS_SQL, parameters={"min_level": 17})
    LogfireToFileTransfer(
        task_id="export_file",
        sql=EXPORT_SQL,
        destination=ROOT + "/file/{{ ds }}/records.parquet",
    )
    LogfireToFileTransfer(
        task_id="export_set",
        sql=EXPORT_SQL,
        destination=ROOT + "/set/{{ ds }}/records-{part}.csv",
        format="csv",
        max_rows_per_file=10,
    )


@dag(dag_id="lf_hook_lineage", **DAILY)
def hook_lineage():
    """Run first: under dag.test() every task shares one process, so one hook-lineage collector."""

    @task
    def hook_read(data_interval_start=None, data_interval_end=None):
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        table = LogfireHook().query_arrow(
            "SELECT count(*) AS n FROM records",
            min_timestamp=data_interval_start,
            max_timestamp=data_interval_end,
        )
        return table.column("n")[0].as_py()

    hook_read()


@dag(dag_id="lf_links", **DAILY)
def links():
    LogfireQueryOperator(task_id="local", sql="SELECT count(*) AS n FROM records")
    LogfireQueryOperator(
        task_id="eu", sql="SELECT count(*) AS n FROM records", logfire_conn_id="logfire_eu_ui"
    )
    LogfireQueryOperator(
        task_id="us_prod",
        sql="SELECT count(*) AS n FROM records",
        logfire_conn_id="logfire_us_ui",
        environment="prod",
    )
    LogfireToFileTransfer(
        task_id="export_eu",
        sql=EXPORT_SQL,
        destination=ROOT + "/links/{{ ds }}/records.parquet",
        logfire_conn_id="logfire_eu_ui",
    )


hook_lineage()
lineage()
links()
