"""Test your Logfire DAGs against the local server: real HTTP, real files, no Logfire account.

    pip install "airflow-provider-logfire[local]" pytest
    pytest docs/examples/pytest/test_with_local_server.py

The `dag.test()` test also needs an initialised Airflow metadata database (`airflow db migrate`)
and AIRFLOW__CORE__DAGS_FOLDER set to the folder holding the DAG (here `docs/examples/dags`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

DAY_END = datetime(2026, 11, 27, tzinfo=timezone.utc)
ROWS_PER_DAY = 3_000


# --8<-- [start:fixtures]
@pytest.fixture(scope="module")
def logfire_server():
    """A local Logfire server with two known days of demo telemetry, for every test of the module."""
    engine = LocalEngine()
    engine.load_demo(days=2, rows_per_day=ROWS_PER_DAY, seed=42, end=DAY_END)
    with run_local_server(engine) as server:
        yield server
    engine.close()


@pytest.fixture
def logfire_connection(logfire_server, monkeypatch):
    """`logfire_default` pointing at the local server, through Airflow's environment variables."""
    connection = {"conn_type": "logfire", "host": logfire_server.url, "password": logfire_server.token}
    monkeypatch.setenv("AIRFLOW_CONN_LOGFIRE_DEFAULT", json.dumps(connection))
    return logfire_server


# --8<-- [end:fixtures]


# --8<-- [start:execute]
def test_export_task_writes_exactly_one_day(logfire_connection, tmp_path):
    from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

    task = LogfireToFileTransfer(task_id="export", destination=str(tmp_path / "records.parquet"))
    # execute() with the context keys the window is read from (templates are not rendered here).
    summary = task.execute({"data_interval_start": DAY_END - timedelta(days=1), "data_interval_end": DAY_END})

    assert summary["rows"] == ROWS_PER_DAY
    assert pq.read_metadata(tmp_path / "records.parquet").num_rows == ROWS_PER_DAY


# --8<-- [end:execute]


# --8<-- [start:dag_test]
def test_quickstart_dag_run(logfire_connection, tmp_path, monkeypatch):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # earlier Airflow 3 releases
        from airflow.models.dagbag import DagBag
    from airflow.utils.state import DagRunState

    monkeypatch.setenv("LOGFIRE_EXPORT_ROOT", str(tmp_path))  # read by the DAG file when it is parsed
    dag = DagBag().get_dag("logfire_quickstart")  # from the configured dags folder, as dag.test() needs
    if dag is None:
        pytest.skip("set AIRFLOW__CORE__DAGS_FOLDER to the folder of logfire_quickstart (docs/examples/dags)")

    # With a data-interval timetable, dag.test(logical_date=D) runs the interval that ends at D.
    run = dag.test(logical_date=DAY_END)

    assert run.state == DagRunState.SUCCESS
    export = tmp_path / "records" / "date=2026-11-26" / "records.parquet"
    assert pq.read_metadata(export).num_rows == ROWS_PER_DAY


# --8<-- [end:dag_test]
