"""LogfireQueryOperator through `dag.test()`: outputs, a templated `.sql` file, truncation, bad SQL.

Every XCom is compared with what the server returns for the same SQL and window, asked directly.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from airflow_provider_logfire.client import LogfireClient, LogfireQueryError
from airflow_provider_logfire.local.testing import LocalServer
from tests.conftest import logged_at_warning
from tests.support.dag_tasks import (
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    records_table,
)

SERVICES = ("api", "web", "worker")
ROWS = 30
PER_SERVICE = (  # as in dags/query_dags.py
    "SELECT service_name, count(*) AS n, max(level) AS max_level, min(start_timestamp) AS first_seen "
    "FROM records GROUP BY service_name ORDER BY service_name"
)
IDS = "SELECT span_id FROM records ORDER BY span_id"
BAD_SQL = "SELECT no_such_column FROM records"
LIMIT_WARNING = "The query returned 5 rows, which is its limit (5): the result may be cut off"


@pytest.fixture(scope="module")
def report(server: LocalServer, run_module_dags: RunDags) -> DagRunReport:
    step = (DAY_END - DAY_START) / ROWS
    times = [DAY_START + i * step for i in range(ROWS)]
    server.engine.insert_arrow(
        "records",
        records_table(
            times,
            id_prefix="q",
            service_name=[SERVICES[i % 3] for i in range(ROWS)],
            level=[17 if i % 4 == 0 else 9 for i in range(ROWS)],
        ),
    )
    # Outside the run's day: an error of a fourth service that no query of the run may see.
    outside = [DAY_START - timedelta(hours=1), DAY_END]
    server.engine.insert_arrow(
        "records", records_table(outside, id_prefix="out", service_name=["batch"] * 2, level=[21, 21])
    )
    (run,) = run_module_dags(
        [DAGS_DIR / "query_dags.py"],
        [{"dag_id": "lf_query", "logical_date": LOGICAL_DATE.isoformat()}],
        env=connection_env("logfire_default", server.url),
    )
    return run


def _day(client: LogfireClient, sql: str) -> list[dict]:
    return client.query_json_rows(sql, min_timestamp=DAY_START, max_timestamp=DAY_END, limit=10_000)["rows"]


def test_outputs_rows_columns_and_csv(report: DagRunReport, client: LogfireClient) -> None:
    for task_id in ("as_rows", "as_columns", "as_csv"):
        assert report.tasks[task_id] == "success", report.task_log(task_id)[-3000:]
    expected = _day(client, PER_SERVICE)
    assert [row["service_name"] for row in expected] == sorted(SERVICES)  # not "batch": outside the day
    assert report.xcom["as_rows"] == expected
    assert report.xcom["as_columns"] == {name: [row[name] for row in expected] for name in expected[0]}
    csv_text = client.query_csv(PER_SERVICE, min_timestamp=DAY_START, max_timestamp=DAY_END, limit=10_000)
    assert report.xcom["as_csv"] == csv_text
    header, *records = list(csv.reader(io.StringIO(csv_text)))
    assert header == ["service_name", "n", "max_level", "first_seen"]
    assert [record[0] for record in records] == sorted(SERVICES)


def test_templated_sql_file_renders_and_runs(report: DagRunReport, client: LogfireClient) -> None:
    assert report.tasks["from_sql_file"] == "success", report.task_log("from_sql_file")[-3000:]
    rendered = report.rendered["from_sql_file"]["sql"]
    assert "{{" not in rendered and "{%" not in rendered
    assert rendered.startswith("-- Errors per service on 2026-11-27 (rendered by Jinja")
    assert "WHERE level >= 17\n" in rendered
    assert "AND start_timestamp >= '2026-11-27 00:00:00+00:00'" in rendered
    assert "Querying Logfire for [2026-11-27T00:00:00+00:00" in report.task_log("from_sql_file")
    errors = report.xcom["from_sql_file"]
    assert errors == _day(client, rendered)  # the very SQL that was rendered, run for the same day
    expected = {s: sum(1 for i in range(ROWS) if i % 4 == 0 and SERVICES[i % 3] == s) for s in SERVICES}
    assert {row["service_name"]: row["errors"] for row in errors} == expected


def test_a_result_that_fills_limit_warns(report: DagRunReport, client: LogfireClient) -> None:
    assert report.tasks["fills_limit"] == "success"
    assert report.xcom["fills_limit"] == _day(client, IDS)[:5]
    log = report.task_log("fills_limit")
    assert logged_at_warning(log, LIMIT_WARNING)
    assert "LogfireToFileTransfer" in log  # says what to use instead
    # CSV output counts records, not lines, and warns the same way.
    assert report.tasks["fills_limit_csv"] == "success"
    assert len(report.xcom["fills_limit_csv"].splitlines()) == 6
    assert LIMIT_WARNING in report.task_log("fills_limit_csv")
    # A result under the limit is complete: no warning.
    assert len(report.xcom["under_limit"]) == ROWS
    assert "may be cut off" not in report.task_log("under_limit")


def test_a_result_that_fills_limit_fails_when_asked(report: DagRunReport) -> None:
    assert report.tasks["fills_limit_strict"] == "failed"
    assert "fills_limit_strict" not in report.xcom
    log = report.task_log("fills_limit_strict")
    assert "AirflowException" in log and LIMIT_WARNING in log


def test_bad_sql_fails_with_the_servers_message(report: DagRunReport, client: LogfireClient) -> None:
    assert report.tasks["bad_sql"] == "failed"
    with pytest.raises(LogfireQueryError) as server_said:
        _day(client, BAD_SQL)
    reason = str(server_said.value.detail).splitlines()[0]
    assert "No field named no_such_column" in reason
    log = report.task_log("bad_sql")
    assert "LogfireQueryError: Logfire query failed: " + reason in log


def test_no_token_anywhere(report: DagRunReport) -> None:
    assert_secrets_absent([report], SECRET_TOKEN)
