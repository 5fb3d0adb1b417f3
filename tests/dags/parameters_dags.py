"""DAGs for the bound-parameter tests: values reach the SQL only as literals, whatever they hold.

Run by `dag.test()` in a subprocess. The hostile values come from the run's `conf` (the test owns
them), through a task's XCom into mapped operators, so they reach `parameters` unchanged.
`LOGFIRE_TEST_OUT` is the directory the exports go to.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())
SCHEDULE = CronDataIntervalTimetable("@daily", timezone="UTC")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
MATCHING = "SELECT span_id, service_name FROM records WHERE service_name = %(value)s ORDER BY span_id"


@task
def hostile_parameters() -> list[dict]:
    """One `parameters` dict per hostile value of the run's conf."""
    return [{"value": value} for value in get_current_context()["params"]["hostile"]]


@dag(
    dag_id="lf_query_parameters",
    schedule=SCHEDULE,
    start_date=START,
    catchup=False,
    default_args={"retries": 0},
    params={"service": "api", "hostile": []},
)
def query_parameters():
    LogfireQueryOperator(
        task_id="errors_of_service",
        sql=(
            "SELECT span_id FROM records WHERE service_name = %(service)s AND level >= %(level)s "
            "ORDER BY span_id"
        ),
        parameters={"service": "{{ params.service }}", "level": 17},
    )
    LogfireQueryOperator(
        task_id="services_in_list",
        sql=(
            "SELECT service_name, count(*) AS n FROM records WHERE service_name IN %(services)s "
            "AND span_name LIKE '%%row' GROUP BY service_name ORDER BY service_name"
        ),
        parameters={"services": ["api", "web"]},
    )
    LogfireQueryOperator.partial(task_id="hostile", sql=MATCHING).expand(parameters=hostile_parameters())


@dag(
    dag_id="lf_export_parameters",
    schedule=SCHEDULE,
    start_date=START,
    catchup=False,
    default_args={"retries": 0},
    params={"service": "api", "hostile": []},
)
def export_parameters():
    LogfireToFileTransfer(
        task_id="export_service",
        sql="SELECT * FROM records WHERE service_name = %(service)s",
        parameters={"service": "{{ params.service }}"},
        destination=OUT + "/service.parquet",
    )
    LogfireToFileTransfer.partial(
        task_id="hostile",
        sql="SELECT * FROM records WHERE service_name = %(value)s",
        destination=OUT + "/hostile-{{ ti.map_index }}.jsonl",
        format="jsonl",
    ).expand(parameters=hostile_parameters())


query_parameters()
export_parameters()
