"""LogfireNewDataTrigger as Airflow runs it: a real `airflow dag-processor` registers the watcher of
`dags/new_data_watcher_dags.py`, a real `airflow triggerer` runs it against the local server, and
each new batch of telemetry (sent over OTLP) becomes one asset event in Airflow's database and
queues the DAG scheduled on the asset.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from tests.conftest import fresh_airflow_home
from tests.triggers.test_new_data_trigger import TOKEN, load_rows, send_spans

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "new_data_watcher_dags.py"
ASSET = "lf_shop_errors"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalEngine() as engine, run_local_server(engine, token=TOKEN) as running:
        yield running


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An Airflow home of this test's own: the session database also holds the triggers that other
    tests' deferred tasks left, which a real triggerer would pick up and run too."""
    return tmp_path / "airflow-home"


@pytest.fixture
def airflow_processes(
    server: LocalServer, airflow_db: Path, home: Path, tmp_path: Path
) -> Iterator[dict[str, Path]]:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    env = {
        **os.environ,
        **fresh_airflow_home(airflow_db, home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
            {"conn_type": "logfire", "host": server.url, "password": TOKEN}
        ),
        "LF_TEST_POLL_INTERVAL": "0.5",
    }
    logs: dict[str, Path] = {}
    procs: list[subprocess.Popen] = []
    try:
        for name in ("dag-processor", "triggerer"):
            logs[name] = tmp_path / f"{name}.log"
            sink = logs[name].open("w")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "airflow", name],
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield logs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def db(home: Path, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(home / "airflow.db", timeout=30) as conn:
        return conn.execute(sql, args).fetchall()


def asset_events(home: Path) -> list[dict[str, Any]]:
    rows = db(
        home,
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ? ORDER BY e.id",
        ASSET,
    )
    return [json.loads(extra) for (extra,) in rows]


def wait_for(condition: Callable[[], Any], logs: dict[str, Path], what: str, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    tails = {name: path.read_text()[-3000:] for name, path in logs.items()}
    raise AssertionError(f"timed out waiting for {what}; logs: {json.dumps(tails, indent=1)}")


def test_the_triggerer_fires_one_asset_event_per_new_batch(
    server: LocalServer, home: Path, airflow_processes: dict[str, Path]
) -> None:
    logs = airflow_processes
    load_rows(server, "shop", [17])  # before the watcher starts: the starting point, never an event
    wait_for(lambda: "Watching records from" in logs["triggerer"].read_text(), logs, "the watcher to start")
    assert asset_events(home) == []

    send_spans(server, "shop", errors=3, ok=1)
    send_spans(server, "billing", errors=2)
    (first,) = wait_for(lambda: asset_events(home), logs, "the first asset event")
    assert first["from_trigger"] is True and first["payload"]["count"] == 3
    queued = db(home, "SELECT target_dag_id FROM asset_dag_run_queue")
    assert ("lf_on_shop_errors",) in queued

    load_rows(server, "shop", [17, 21])
    events = wait_for(lambda: (e := asset_events(home)) and len(e) >= 2 and e, logs, "the second event")
    time.sleep(5)  # ten polls more: nothing new, so nothing fires
    events = asset_events(home)
    assert [e["payload"]["count"] for e in events] == [3, 2], events
    assert events[1]["payload"]["since_created_at"] == first["payload"]["newest_created_at"]
