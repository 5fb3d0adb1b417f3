"""LogfireToFileTransfer through `dag.test()`: what no retry can fix fails at once; bound parameters.

`dags/fail_fast_dags.py` runs with `retries=3` and a one-second `retry_delay`: bad SQL, a refused
token, a missing parameter and an existing destination with `if_exists="fail"` each run once and
fail; a 503 on every attempt of the first try (a fault-injecting proxy) is retried by Airflow.
`dags/parameters_dags.py` exports the rows of one service, bound before planning so the count
query plans only that service's rows, and exports hostile values that must match exactly the
rows holding them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.client import LogfireClient
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
    server_count,
)

API_ROWS = 12_000  # two pieces of at most 9,000 planned rows
OTHER_ROWS = 60_000  # would need seven more pieces if the plan counted them
ATTEMPTS = 5  # the client's default RetryPolicy.max_attempts: one task try
HOSTILE = {
    "o'brien": 1,
    "x'; DROP TABLE records; --": 2,
    "' OR '1'='1": 0,
    "back\\slash\\' OR 1=1 --": 3,
    "100% sure %(value)s %s %% done": 1,
    "ünïcødé ✓ 日本語 🔥": 2,
}
EXISTING = b"an earlier export, which if_exists='fail' must keep"


def _hostile_rows() -> list[tuple[str, str]]:
    names = [value for value, count in HOSTILE.items() for _ in range(count)]
    return [(f"hostile{i:09d}", name) for i, name in enumerate(names)]


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as running:
        yield running


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fail_fast")


@pytest.fixture(scope="module")
def reports(
    server: LocalServer, proxy: FaultProxy, out_dir: Path, run_module_dags: RunDags
) -> dict[str, DagRunReport]:
    for prefix, service, count in (("api", "api", API_ROWS), ("web", "web", OTHER_ROWS)):
        step = (DAY_END - DAY_START) / count
        server.engine.insert_arrow(
            "records",
            records_table(
                [DAY_START + i * step for i in range(count)], id_prefix=prefix, service_name=[service] * count
            ),
        )
    hostile = _hostile_rows()
    server.engine.insert_arrow(
        "records",
        records_table([DAY_START] * len(hostile), id_prefix="hostile", service_name=[n for _, n in hostile]),
    )
    (out_dir / "existing.parquet").write_bytes(EXISTING)
    proxy.inject(*[Fault.status_code(503)] * ATTEMPTS)  # the first try of `flaky`, every attempt
    date = LOGICAL_DATE.isoformat()
    runs = run_module_dags(
        [DAGS_DIR / "fail_fast_dags.py", DAGS_DIR / "parameters_dags.py"],
        [
            {"dag_id": "lf_export_fail_fast", "logical_date": date},
            {"dag_id": "lf_export_parameters", "logical_date": date, "conf": {"hostile": list(HOSTILE)}},
        ],
        env={
            **connection_env("logfire_default", server.url),
            **connection_env("logfire_bad", server.url, token=BAD_TOKEN),
            **connection_env("logfire_flaky", proxy.url),
            "LOGFIRE_TEST_OUT": str(out_dir),
        },
    )
    return {run.dag_id: run for run in runs}


@pytest.fixture(scope="module")
def fail_fast(reports: dict[str, DagRunReport]) -> DagRunReport:
    return reports["lf_export_fail_fast"]


@pytest.fixture(scope="module")
def parameters(reports: dict[str, DagRunReport]) -> DagRunReport:
    return reports["lf_export_parameters"]


def _ran_once_and_failed(report: DagRunReport, task_id: str) -> str:
    log = report.task_log(task_id)
    assert report.tasks[task_id] == "failed", log[-3000:]
    assert report.tries[task_id] == 1
    assert log.count(f"[DAG TEST] starting task_id={task_id} ") == 1
    assert "AirflowFailException" in log
    return log


def test_bad_sql_runs_once_with_the_servers_message(fail_fast: DagRunReport, out_dir: Path) -> None:
    log = _ran_once_and_failed(fail_fast, "bad_sql")
    assert "AirflowFailException: LogfireQueryError: Logfire query failed: " in log
    assert "Schema error: No field named no_such_column." in log  # DataFusion's own message
    assert not (out_dir / "bad_sql.parquet").exists()


def test_a_refused_token_runs_once(fail_fast: DagRunReport) -> None:
    assert "AirflowFailException: LogfireAuthError:" in _ran_once_and_failed(fail_fast, "bad_token")


def test_a_missing_parameter_is_named_and_fails_at_once(fail_fast: DagRunReport) -> None:
    log = _ran_once_and_failed(fail_fast, "missing_parameter")
    assert "Cannot bind parameters into the SQL: No value given for parameter(s) 'service'" in log


def test_an_existing_destination_with_if_exists_fail_runs_once(
    fail_fast: DagRunReport, out_dir: Path
) -> None:
    log = _ran_once_and_failed(fail_fast, "existing")
    assert "AirflowFailException: DestinationExistsError:" in log
    assert "the destination already exists (if_exists='fail')" in log
    assert (out_dir / "existing.parquet").read_bytes() == EXISTING


def test_a_server_error_is_retried_by_airflow(
    fail_fast: DagRunReport, proxy: FaultProxy, out_dir: Path, client: LogfireClient
) -> None:
    log = fail_fast.task_log("flaky")
    assert fail_fast.tasks["flaky"] == "success", log[-3000:]
    assert fail_fast.tries["flaky"] == 2
    first_try = log.split("[DAG TEST] starting task_id=flaky ")[1]
    assert "LogfireServerError" in first_try and "AirflowFailException" not in first_try
    assert proxy.served["status_503"] == ATTEMPTS
    exported = pq.read_table(out_dir / "flaky.parquet", columns=["service_name"]).column("service_name")
    assert set(exported.to_pylist()) == {"api"}
    assert len(exported) == API_ROWS == server_count(client, DAY_START, DAY_END, "service_name = 'api'")


def test_parameters_are_bound_before_planning(
    parameters: DagRunReport, out_dir: Path, client: LogfireClient
) -> None:
    assert parameters.tasks["export_service"] == "success", parameters.task_log("export_service")[-3000:]
    assert parameters.rendered["export_service"]["parameters"] == {"service": "api"}
    summary = parameters.xcom["export_service"]
    assert summary["rows"] == API_ROWS == server_count(client, DAY_START, DAY_END, "service_name = 'api'")
    table = pq.read_table(out_dir / "service.parquet", columns=["span_id", "service_name"])
    assert set(table.column("service_name").to_pylist()) == {"api"}
    assert sorted(table.column("span_id").to_pylist()) == [f"api{i:09d}" for i in range(API_ROWS)]
    # One count query and two pieces: the plan counted the bound SQL's rows, not the table's
    # (whose 72,000 rows would have needed at least eight pieces).
    assert summary["requests"] <= 4


def test_hostile_values_are_compared_as_literals(parameters: DagRunReport, out_dir: Path) -> None:
    hostile_rows = _hostile_rows()
    for index, value in enumerate(HOSTILE):
        key = f"hostile[{index}]"
        assert parameters.tasks[key] == "success", parameters.task_log("hostile")[-3000:]
        lines = (out_dir / f"hostile-{index}.jsonl").read_text().splitlines()
        exported = sorted((row["span_id"], row["service_name"]) for row in map(json.loads, lines))
        assert exported == [(i, n) for i, n in hostile_rows if n == value], value
        assert len(exported) == HOSTILE[value] == parameters.xcom[key]["rows"]


def test_no_token_anywhere(reports: dict[str, DagRunReport]) -> None:
    assert_secrets_absent(reports.values(), SECRET_TOKEN, BAD_TOKEN)
