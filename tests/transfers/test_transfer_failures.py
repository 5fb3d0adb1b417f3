"""A failed export changes nothing at the destination; a re-run replaces the file; if_exists.

Four runs of the same interval, in one subprocess (`dags/transfer_failures_dags.py`):
1. a clean export;
2. the same export through a `FaultProxy` that lets the count query and the first piece through,
   then answers 500 to every attempt at the second piece, so the task fails mid-export after
   the client's retries;
3. a clean re-run, which replaces the file with the same rows;
4. `if_exists="skip"` and `if_exists="fail"` against the file that now exists.
After each export a downstream task records the destination directory as it is at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.faults import Fault, FaultProxy, fault_proxy
from airflow_provider_logfire.local.testing import LocalServer
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
    server_count,
)

ROWS = 20_000  # three pieces of at most 9,000 planned rows
ATTEMPTS = 5  # the client's default RetryPolicy.max_attempts


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as running:
        yield running


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("failures")


@pytest.fixture(scope="module")
def runs(
    server: LocalServer, proxy: FaultProxy, out_dir: Path, run_module_dags: RunDags
) -> list[DagRunReport]:
    step = (DAY_END - DAY_START) / ROWS
    times = pa.array([DAY_START + i * step for i in range(ROWS)], pa.timestamp("us", tz="UTC"))
    server.engine.insert_arrow("records", records_table(times, id_prefix="day", duration=np.ones(ROWS)))
    # Only run 2 uses the proxy: the count query and piece 1 pass, every attempt at piece 2 fails.
    proxy.inject(Fault.slow(0), Fault.slow(0), *[Fault.status_code(500)] * ATTEMPTS)
    date = LOGICAL_DATE.isoformat()
    # Every run names its connection: in one process, dag.test() keeps a run's conf-overridden
    # params for the next run of the same DAG.
    direct, flaky = {"conn_id": "logfire_default"}, {"conn_id": "logfire_flaky"}
    return run_module_dags(
        [DAGS_DIR / "transfer_failures_dags.py"],
        [
            {"dag_id": "lf_export_retry", "logical_date": date, "conf": direct},
            {"dag_id": "lf_export_retry", "logical_date": date, "conf": flaky},
            {"dag_id": "lf_export_retry", "logical_date": date, "conf": direct},
            {"dag_id": "lf_if_exists", "logical_date": date},
        ],
        env={
            **connection_env("logfire_default", server.url),
            **connection_env("logfire_flaky", proxy.url),
            "LOGFIRE_TEST_OUT": str(out_dir),
        },
    )


def test_a_clean_export_first(runs: list[DagRunReport], client: LogfireClient) -> None:
    first = runs[0]
    assert first.tasks == {"export": "success", "inspect": "success"}, first.task_log("export")[-3000:]
    assert first.rendered["export"]["logfire_conn_id"] == "logfire_default"
    assert first.xcom["export"]["rows"] == ROWS == server_count(client, DAY_START, DAY_END)
    assert first.xcom["inspect"]["files"] == ["records.parquet"]
    assert first.xcom["inspect"]["rows"] == ROWS


def test_a_failure_mid_export_leaves_the_previous_file_untouched(
    runs: list[DagRunReport], proxy: FaultProxy
) -> None:
    before, failed = runs[0].xcom["inspect"], runs[1]
    assert failed.rendered["export"]["logfire_conn_id"] == "logfire_flaky"
    assert failed.tasks == {"export": "failed", "inspect": "success"}
    assert "export" not in failed.xcom
    log = failed.task_log("export")
    # A piece was written to the temporary file before another one failed for good.
    assert "Export progress: 1/3 pieces" in log
    assert log.count("retrying in") == ATTEMPTS - 1
    assert "Logfire service error (HTTP 500)" in log
    assert dict(proxy.served) == {"slow": 2, "status_500": ATTEMPTS}
    # Nothing else went through the proxy, except perhaps the third piece: the single worker may
    # pick it up in the instant between the second one failing and the export being stopped.
    assert 2 + ATTEMPTS <= proxy.requests <= 3 + ATTEMPTS
    after = failed.xcom["inspect"]
    assert after["files"] == ["records.parquet"]  # no partial file, no temporary sibling
    assert after == before  # the very same file: same inode, bytes and rows


def test_a_rerun_replaces_the_file_with_the_same_rows(runs: list[DagRunReport]) -> None:
    first, rerun = runs[0].xcom["inspect"], runs[2]
    assert rerun.tasks == {"export": "success", "inspect": "success"}, rerun.task_log("export")[-3000:]
    assert rerun.xcom["export"]["rows"] == ROWS
    assert rerun.rendered["export"]["logfire_conn_id"] == "logfire_default"
    replaced = rerun.xcom["inspect"]
    assert replaced["files"] == ["records.parquet"]
    assert replaced["inode"] != first["inode"]  # a new file was moved into place
    assert (replaced["rows"], replaced["ids_sha256"]) == (first["rows"], first["ids_sha256"])


def test_if_exists_skip_and_fail(runs: list[DagRunReport]) -> None:
    current, report = runs[2].xcom["inspect"], runs[3]
    assert report.tasks == {"skip_existing": "success", "fail_existing": "failed", "inspect": "success"}
    skipped = report.xcom["skip_existing"]
    assert skipped["skipped"] is True and skipped["rows"] == 0 and skipped["requests"] == 0
    assert "exists and if_exists='skip': nothing to do" in report.task_log("skip_existing")
    fail_log = report.task_log("fail_existing")
    assert "DestinationExistsError" in fail_log
    assert "the destination already exists (if_exists='fail')" in fail_log
    assert report.xcom["inspect"] == current  # neither touched the file


def test_no_token_anywhere(runs: list[DagRunReport]) -> None:
    assert_secrets_absent(runs, SECRET_TOKEN)
