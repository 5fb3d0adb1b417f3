"""DAGs for the fail-fast tests: with `retries=3`, what no retry can fix fails on the first try.

Run by `dag.test()` in a subprocess, which retries a task the way the scheduler does (up for
retry, then scheduled again once `retry_delay` has passed). Connections, given by the tests:
`logfire_default` (the local server), `logfire_bad` (a token the server refuses) and
`logfire_flaky` (a proxy that answers 503 to every attempt of the first try, then passes).
`LOGFIRE_TEST_OUT` is the directory the exports go to.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())
SCHEDULE = CronDataIntervalTimetable("@daily", timezone="UTC")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
RETRYING = {"retries": 3, "retry_delay": timedelta(seconds=1)}
BAD_SQL = "SELECT no_such_column FROM records"
BY_SERVICE = "SELECT span_id FROM records WHERE service_name = %(service)s ORDER BY span_id"


@dag(dag_id="lf_query_fail_fast", schedule=SCHEDULE, start_date=START, catchup=False, default_args=RETRYING)
def query_fail_fast():
    LogfireQueryOperator(task_id="bad_sql", sql=BAD_SQL)
    LogfireQueryOperator(
        task_id="bad_token", sql=BY_SERVICE, parameters={"service": "api"}, logfire_conn_id="logfire_bad"
    )
    LogfireQueryOperator(task_id="missing_parameter", sql=BY_SERVICE, parameters={"servce": "api"})
    LogfireQueryOperator(
        task_id="reversed_window",
        sql=BAD_SQL,
        min_timestamp="2026-01-02T00:00:00Z",
        max_timestamp="2026-01-01T00:00:00Z",
    )
    LogfireQueryOperator(
        task_id="flaky", sql=BY_SERVICE, parameters={"service": "api"}, logfire_conn_id="logfire_flaky"
    )


@dag(dag_id="lf_export_fail_fast", schedule=SCHEDULE, start_date=START, catchup=False, default_args=RETRYING)
def export_fail_fast():
    LogfireToFileTransfer(task_id="bad_sql", sql=BAD_SQL, destination=OUT + "/bad_sql.parquet")
    LogfireToFileTransfer(
        task_id="bad_token", destination=OUT + "/bad_token.parquet", logfire_conn_id="logfire_bad"
    )
    LogfireToFileTransfer(
        task_id="missing_parameter",
        sql="SELECT * FROM records WHERE service_name = %(service)s",
        parameters={"servce": "api"},
        destination=OUT + "/missing_parameter.parquet",
    )
    LogfireToFileTransfer(task_id="existing", destination=OUT + "/existing.parquet", if_exists="fail")
    LogfireToFileTransfer(
        task_id="flaky",
        sql="SELECT * FROM records WHERE service_name = %(service)s",
        parameters={"service": "api"},
        destination=OUT + "/flaky.parquet",
        logfire_conn_id="logfire_flaky",
    )


query_fail_fast()
export_fail_fast()
