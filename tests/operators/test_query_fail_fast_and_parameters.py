"""LogfireQueryOperator through `dag.test()`: what no retry can fix fails at once; bound parameters.

`dags/fail_fast_dags.py` runs with `retries=3` and a one-second `retry_delay`: bad SQL, a refused
token, a missing parameter and a reversed window each run once and fail; a 503 on every attempt
of the first try (a fault-injecting proxy) is retried by Airflow and the second try succeeds.
`dags/parameters_dags.py` binds values into `%(name)s` placeholders, including hostile ones that
would change the query if they were pasted in: each must match exactly the rows that hold it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_logfire.client import LogfireClient, LogfireQueryError
from airflow_provider_logfire.local.faults import Fault, FaultProxy, fault_proxy
from airflow_provider_logfire.local.testing import LocalServer
from tests.support.dag_tasks import (
    BAD_TOKEN,
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
ATTEMPTS = 5  # the client's default RetryPolicy.max_attempts: one task try
#: Values that would change the query if pasted into it, and how many rows hold each exactly.
HOSTILE = {
    "o'brien": 1,
    "x'; DROP TABLE records; --": 2,
    "' OR '1'='1": 0,  # pasted in, it would match every row
    "back\\slash\\' OR 1=1 --": 3,
    "100% sure %(value)s %s %% done": 1,
    "ünïcødé ✓ 日本語 🔥": 2,
    '"double" `tick` $1 $$dollar$$ \\x27': 0,
    "') OR service_name IN ('api": 0,
}


def _hostile_rows() -> list[tuple[str, str]]:
    """(span_id, service_name) of every row holding a hostile value, ids as `records_table` numbers them."""
    names = [value for value, count in HOSTILE.items() for _ in range(count)]
    return [(f"hostile{i:09d}", name) for i, name in enumerate(names)]


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as running:
        yield running


@pytest.fixture(scope="module")
def reports(server: LocalServer, proxy: FaultProxy, run_module_dags: RunDags) -> dict[str, DagRunReport]:
    step = (DAY_END - DAY_START) / ROWS
    server.engine.insert_arrow(
        "records",
        records_table(
            [DAY_START + i * step for i in range(ROWS)],
            id_prefix="q",
            service_name=[SERVICES[i % 3] for i in range(ROWS)],
            level=[17 if i % 4 == 0 else 9 for i in range(ROWS)],
        ),
    )
    hostile = _hostile_rows()
    server.engine.insert_arrow(
        "records",
        records_table(
            [DAY_START + step / 2] * len(hostile), id_prefix="hostile", service_name=[n for _, n in hostile]
        ),
    )
    proxy.inject(*[Fault.status_code(503)] * ATTEMPTS)  # the first try of `flaky`, every attempt
    date = LOGICAL_DATE.isoformat()
    runs = run_module_dags(
        [DAGS_DIR / "fail_fast_dags.py", DAGS_DIR / "parameters_dags.py"],
        [
            {"dag_id": "lf_query_fail_fast", "logical_date": date},
            {"dag_id": "lf_query_parameters", "logical_date": date, "conf": {"hostile": list(HOSTILE)}},
        ],
        env={
            **connection_env("logfire_default", server.url),
            **connection_env("logfire_bad", server.url, token=BAD_TOKEN),
            **connection_env("logfire_flaky", proxy.url),
        },
    )
    return {run.dag_id: run for run in runs}


@pytest.fixture(scope="module")
def fail_fast(reports: dict[str, DagRunReport]) -> DagRunReport:
    return reports["lf_query_fail_fast"]


@pytest.fixture(scope="module")
def parameters(reports: dict[str, DagRunReport]) -> DagRunReport:
    return reports["lf_query_parameters"]


def _day(client: LogfireClient, sql: str) -> list[dict]:
    return client.query_json_rows(sql, min_timestamp=DAY_START, max_timestamp=DAY_END, limit=10_000)["rows"]


def _ran_once_and_failed(report: DagRunReport, task_id: str) -> str:
    """The task's log, after checking it failed on its first try of four without a retry."""
    log = report.task_log(task_id)
    assert report.tasks[task_id] == "failed", log[-3000:]
    assert report.tries[task_id] == 1
    assert log.count(f"[DAG TEST] starting task_id={task_id} ") == 1
    assert "AirflowFailException" in log
    return log


def test_bad_sql_runs_once_and_fails_with_the_servers_message(
    fail_fast: DagRunReport, client: LogfireClient
) -> None:
    with pytest.raises(LogfireQueryError) as server_said:
        _day(client, "SELECT no_such_column FROM records")
    reason = str(server_said.value.detail).splitlines()[0]
    assert "no_such_column" in reason  # the server names the column (DataFusion: "No field named ...")
    log = _ran_once_and_failed(fail_fast, "bad_sql")
    assert "AirflowFailException: LogfireQueryError: Logfire query failed: " + reason in log
    # The original error is chained, for whoever reads the traceback.
    assert "LogfireQueryError: Logfire query failed: " + reason in log.split("AirflowFailException:")[0]


def test_a_refused_token_runs_once(fail_fast: DagRunReport) -> None:
    log = _ran_once_and_failed(fail_fast, "bad_token")
    assert "AirflowFailException: LogfireAuthError:" in log


def test_a_missing_parameter_is_named_and_fails_at_once(fail_fast: DagRunReport) -> None:
    log = _ran_once_and_failed(fail_fast, "missing_parameter")
    assert "LogfireConfigError: Cannot bind parameters into the SQL: " in log
    assert "No value given for parameter(s) 'service'" in log


def test_a_reversed_window_fails_at_once(fail_fast: DagRunReport) -> None:
    log = _ran_once_and_failed(fail_fast, "reversed_window")
    assert "AirflowFailException: WindowError:" in log


def test_a_server_error_is_retried_by_airflow(
    fail_fast: DagRunReport, proxy: FaultProxy, client: LogfireClient
) -> None:
    log = fail_fast.task_log("flaky")
    assert fail_fast.tasks["flaky"] == "success", log[-3000:]
    assert fail_fast.tries["flaky"] == 2
    assert log.count("[DAG TEST] starting task_id=flaky ") == 2
    first_try = log.split("[DAG TEST] starting task_id=flaky ")[1]
    assert "LogfireServerError" in first_try and "AirflowFailException" not in first_try
    assert dict(proxy.served) == {"status_503": ATTEMPTS}
    expected = _day(client, "SELECT span_id FROM records WHERE service_name = 'api' ORDER BY span_id")
    assert fail_fast.xcom["flaky"] == expected and len(expected) == ROWS // 3


def test_parameters_are_rendered_as_json_and_bound(parameters: DagRunReport, client: LogfireClient) -> None:
    assert parameters.tasks["errors_of_service"] == "success", parameters.task_log("errors_of_service")[
        -3000:
    ]
    assert parameters.rendered["errors_of_service"]["parameters"] == {"service": "api", "level": 17}
    expected = _day(
        client, "SELECT span_id FROM records WHERE service_name = 'api' AND level >= 17 ORDER BY span_id"
    )
    assert parameters.xcom["errors_of_service"] == expected
    assert len(expected) == sum(1 for i in range(ROWS) if i % 4 == 0 and i % 3 == 0)
    # A list binds as `(a, b)` for IN; `%%` is a literal percent sign once parameters are given.
    assert parameters.xcom["services_in_list"] == [
        {"service_name": "api", "n": ROWS // 3},
        {"service_name": "web", "n": ROWS // 3},
    ]


def test_hostile_values_are_compared_as_literals(parameters: DagRunReport) -> None:
    hostile_rows = _hostile_rows()
    for index, value in enumerate(HOSTILE):
        key = f"hostile[{index}]"
        assert parameters.tasks[key] == "success", parameters.task_log("hostile")[-3000:]
        expected = [{"span_id": i, "service_name": n} for i, n in hostile_rows if n == value]
        assert parameters.xcom[key] == expected, value
        assert len(expected) == HOSTILE[value]


def test_no_token_anywhere(reports: dict[str, DagRunReport]) -> None:
    assert_secrets_absent(reports.values(), SECRET_TOKEN, BAD_TOKEN)
