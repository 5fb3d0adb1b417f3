"""SQL kept in `.sql` files next to the DAG, rendered by Jinja for each run.

- `sql="sql/errors_by_route.sql"`: Airflow reads and renders the file (`template_ext = (".sql",)`),
  with `{{ data_interval_start }}`, `{{ data_interval_end }}` and `{{ params.* }}` filled in; the
  rendered SQL is shown, highlighted, in the UI's Rendered Template tab.
- `environment=`: only rows from these deployment environments (the v2 API's
  `deployment_environment` filter), here taken from a DAG param.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Param, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator


@dag(
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={
        "min_level": Param(17, type="integer", description="17 = error, 13 = warn"),
        "top": Param(20, type="integer", minimum=1, maximum=1000),
        "environments": Param(["prod"], type="array", description="Deployment environments to include"),
    },
    tags=["logfire", "sql"],
)
def logfire_templated_sql():
    LogfireQueryOperator(
        task_id="errors_by_route",
        sql="sql/errors_by_route.sql",
        environment="{{ params.environments | join(',') }}",
    )
    LogfireQueryOperator(
        task_id="slowest_spans",
        sql="sql/slowest_spans.sql",
        environment="{{ params.environments | join(',') }}",
    )


logfire_templated_sql()
