"""LogfireQueryOperator's options: output formats, limits, time zones, environments, explicit bounds,
bound parameters."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "docs"],
    params={"service": "checkout"},
)
def logfire_query_options():
    # --8<-- [start:rows]
    # XCom: [{"service_name": "checkout", "errors": 36}, ...]; timestamps arrive as ISO strings.
    LogfireQueryOperator(
        task_id="errors_per_service",
        sql="SELECT service_name, count(*) AS errors FROM records WHERE level >= 17 GROUP BY 1 ORDER BY 2 DESC",
        logfire_conn_id="logfire_default",
        fail_on_truncation=True,  # aggregated: a full page here would be a bug, so fail rather than warn
    )
    # --8<-- [end:rows]

    # --8<-- [start:columns]
    # XCom: {"level": [5, 9, 13, 17, 21], "n": [2042, 9502, 406, 48, 2]}
    LogfireQueryOperator(
        task_id="levels_as_columns",
        sql="SELECT level, count(*) AS n FROM records GROUP BY level ORDER BY level",
        output_format="columns",
    )
    # --8<-- [end:columns]

    # --8<-- [start:csv]
    # XCom: the CSV text, header first. limit=20 keeps the XCom small; 20 rows back logs a
    # truncation warning (the result may have been cut), which is what the limit is for here.
    LogfireQueryOperator(
        task_id="slowest_as_csv",
        sql="SELECT start_timestamp, span_name, duration FROM records WHERE duration IS NOT NULL ORDER BY duration DESC",
        output_format="csv",
        limit=20,
    )
    # --8<-- [end:csv]

    # --8<-- [start:timezone]
    # date_trunc and extract work in the query's time zone; the window itself stays in UTC.
    LogfireQueryOperator(
        task_id="requests_per_paris_hour",
        sql="""
            SELECT extract(hour FROM start_timestamp) AS paris_hour, count(*) AS requests
            FROM records WHERE http_route IS NOT NULL
            GROUP BY 1 ORDER BY 1
        """,
        timezone="Europe/Paris",
    )
    # --8<-- [end:timezone]

    # --8<-- [start:environment]
    LogfireQueryOperator(
        task_id="prod_and_staging",
        sql="SELECT deployment_environment, count(*) AS n FROM records GROUP BY 1 ORDER BY 1",
        environment=["prod", "staging"],  # or "prod,staging", or a template rendering to that
    )
    LogfireQueryOperator(
        task_id="without_environment",
        sql="SELECT deployment_environment, count(*) AS n FROM records GROUP BY 1",
        environment=[""],  # rows sent without any deployment environment
    )
    # --8<-- [end:environment]

    # --8<-- [start:bounds]
    # The last hour of the run's interval, from templated bounds (any ISO 8601 text works).
    LogfireQueryOperator(
        task_id="last_hour",
        sql="SELECT count(*) AS n FROM records",
        min_timestamp="{{ (data_interval_end - macros.timedelta(hours=1)).isoformat() }}",
        max_timestamp="{{ data_interval_end }}",
    )
    # --8<-- [end:bounds]

    # --8<-- [start:parameters]
    # Values are bound as SQL literals, never pasted in: a service name from a trigger's conf
    # (`airflow dags trigger -c '{"service": "email-worker"}'`) cannot change the query.
    LogfireQueryOperator(
        task_id="errors_of_one_service",
        sql="""
            SELECT span_name, count(*) AS errors FROM records
            WHERE service_name = %(service)s AND level >= %(min_level)s AND span_name NOT LIKE '%%health%%'
            GROUP BY 1 ORDER BY 2 DESC
        """,
        parameters={"service": "{{ params.service }}", "min_level": 17},
    )
    LogfireQueryOperator(
        task_id="errors_of_some_services",
        sql="SELECT service_name, count(*) AS errors FROM records WHERE service_name IN %(services)s GROUP BY 1",
        parameters={"services": ["checkout", "email-worker"]},  # a list binds as (a, b) for IN
    )
    # --8<-- [end:parameters]


logfire_query_options()
