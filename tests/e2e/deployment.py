"""A real Airflow deployment for the end-to-end tests, in a throwaway folder.

`start_deployment(out)` starts, on free loopback ports:

- the local Logfire-compatible server (`python -m airflow_provider_logfire.local`), with two days
  of demo telemetry ending now, so that the latest daily and hourly intervals hold data;
- `airflow api-server`, `airflow scheduler`, `airflow dag-processor` and `airflow triggerer`, with
  the LocalExecutor and SQLite in `out/airflow-home`. Airflow 3.3 accepts SQLite with the
  LocalExecutor (it has no SequentialExecutor any more); the SimpleAuthManager calls exactly that
  shape (SQLite, loopback API host, a local executor) its development setup.

The DAG folder holds a copy of `example_dags/` (whatever it contains when the test starts) in
`examples/` and `tests/e2e/dags/` in `e2e/`. DAGs are paused at creation, so nothing runs until
a test unpauses it. The `logfire_default` connection is an environment variable of every
process; the UI test creates its own connection.

Every log (services and tasks) stays under `out/`, which the test session prints.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.processes import Services, free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags"
E2E_DAGS = Path(__file__).resolve().parent / "dags"
#: A read token of the local server: distinctive, so that a leak of it is easy to find.
READ_TOKEN = "pylf_v1_us_E2eReAdToKeN7xQ2mW9pL"
ADMIN_USER = "admin"
DEMO_DAYS = 2
DEMO_ROWS_PER_DAY = 2_000
#: `airflow` is the module's console script; `python -m airflow` would do too.
AIRFLOW = [sys.executable, "-m", "airflow"]
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass
class Deployment:
    """What the tests need to know of the running deployment."""

    out: Path
    home: Path
    services: Services
    api_url: str
    logfire_url: str
    export_root: Path
    admin_password: str
    #: Just before the local server started: its demo data runs from DEMO_DAYS midnights before
    #: this day to its start-up time, a moment later.
    demo_end: datetime
    api: AirflowApi | None = None

    @property
    def demo_start(self) -> datetime:
        day = self.demo_end.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=DEMO_DAYS)

    def example_files(self) -> list[str]:
        """DAG files of the examples, relative to the DAG folder (`examples/...py`)."""
        root = self.home / "dags"
        return sorted(str(p.relative_to(root)) for p in (root / "examples").rglob("*.py"))

    def task_logs(self, dag_id: str, run_id: str) -> str:
        """Every task log file of a run (all tries and map indexes), for failure messages."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        parts = []
        for path in sorted(folder.rglob("*.log")):
            parts.append(
                f"----- {path.relative_to(folder)} -----\n{path.read_text(errors='replace')[-6000:]}"
            )
        return "\n".join(parts) or f"(no task logs under {folder})"


def airflow_env(home: Path, *, api_port: int, logfire_url: str, export_root: Path) -> dict[str, str]:
    """The configuration every Airflow process of the deployment shares, as environment variables."""
    import os

    api_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two task processes at a time on a two-core machine; more only starve the API server
            # that every task process calls (the Execution API).
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            # Quick turns: the test waits on the scheduler, not the other way round.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # The DAG files never change during a run: parse each once, not every 30 s.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
            # A loaded machine answers slowly; the 5 s default fails task starts outright.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                {"conn_type": "logfire", "host": logfire_url, "password": READ_TOKEN}
            ),
            "LOGFIRE_EXPORT_ROOT": str(export_root),
            "LOGFIRE_LOCAL_TOKEN": READ_TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _prepare_home(home: Path) -> str:
    dags = home / "dags"
    shutil.copytree(EXAMPLE_DAGS, dags / "examples", ignore=_IGNORE)
    shutil.copytree(E2E_DAGS, dags / "e2e", ignore=_IGNORE)
    password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({ADMIN_USER: password}) + "\n")
    return password


def start_deployment(out: Path) -> Deployment:
    """Start every process (see the module docstring); the caller must `services.stop_all()`."""
    home = out / "airflow-home"
    home.mkdir(parents=True)
    export_root = out / "exports"
    password = _prepare_home(home)
    api_port = free_port()
    ready_file = out / "logfire-local.url"
    logfire_port = free_port()
    logfire_url = f"http://127.0.0.1:{logfire_port}"
    env = airflow_env(home, api_port=api_port, logfire_url=logfire_url, export_root=export_root)
    services = Services(out / "logs", env)
    deployment = Deployment(
        out=out,
        home=home,
        services=services,
        api_url=f"http://127.0.0.1:{api_port}",
        logfire_url=logfire_url,
        export_root=export_root,
        admin_password=password,
        demo_end=datetime.now(timezone.utc),
    )
    try:
        services.start(
            "logfire-local",
            [
                sys.executable,
                "-m",
                "airflow_provider_logfire.local",
                "serve",
                "--port",
                str(logfire_port),
                "--demo-days",
                str(DEMO_DAYS),
                "--demo-rows-per-day",
                str(DEMO_ROWS_PER_DAY),
                "--ready-file",
                str(ready_file),
            ],
        )
        migrate = subprocess.run(
            [*AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        (services.log_dir / "db-migrate.log").write_text(migrate.stdout + migrate.stderr)
        if migrate.returncode != 0:
            raise AssertionError(f"airflow db migrate failed:\n{(migrate.stdout + migrate.stderr)[-4000:]}")
        _write_ahead_log(home / "airflow.db")
        # No log servers: they listen on fixed ports on every interface, and the API server
        # reads the task logs from the shared folder anyway.
        services.start("api-server", [*AIRFLOW, "api-server"])
        services.start("scheduler", [*AIRFLOW, "scheduler", "--skip-serve-logs"])
        services.start("dag-processor", [*AIRFLOW, "dag-processor"])
        services.start("triggerer", [*AIRFLOW, "triggerer", "--skip-serve-logs"])
        services.wait_for("the local Logfire server", ready_file.exists, timeout=60, interval=0.5)
        services.wait_for("the Airflow API server", lambda: _healthy(deployment), timeout=180, interval=2)
        deployment.api = AirflowApi.login(deployment.api_url, ADMIN_USER, password)
    except BaseException:
        services.stop_all()
        raise
    return deployment


def _write_ahead_log(database: Path) -> None:
    """Switch the SQLite database to WAL, so that readers (the API server) and the one writer at a
    time (scheduler, triggerer, DAG processor) stop blocking each other. The mode is kept in the file.
    """
    with sqlite3.connect(database) as connection:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise AssertionError(f"SQLite refused WAL mode for {database} (got {mode!r})")


def _healthy(deployment: Deployment) -> bool:
    """The API answers and the scheduler, triggerer and DAG processor report heartbeats."""
    health = httpx.get(f"{deployment.api_url}/api/v2/monitor/health", timeout=10).json()
    return all(
        (health.get(part) or {}).get("status") == "healthy"
        for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    )


class AirflowApi:
    """The REST API v2 of the api-server, with a JWT from the SimpleAuthManager's `/auth/token`."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(
            base_url=f"{base_url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        response = httpx.post(
            f"{base_url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        if response.status_code != 201:
            raise AssertionError(f"Login to the Airflow API failed: {response.status_code} {response.text}")
        return cls(base_url, response.json()["access_token"])

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params or None)
        _check(response)
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.patch(path, json=body)
        _check(response)
        return response.json()

    def put(self, path: str) -> None:
        _check(self.client.put(path))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(path, json=body)
        _check(response)
        return response.json()

    def dags(self) -> list[dict[str, Any]]:
        return self.get("/dags", limit=1000)["dags"]

    def import_errors(self) -> list[dict[str, Any]]:
        return self.get("/importErrors", limit=1000)["import_errors"]

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100, order_by="run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def close(self) -> None:
        self.client.close()


def _check(response: httpx.Response) -> None:
    if response.is_error:
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:2000]}"
        )


def wait(what: str, condition, *, timeout: float, interval: float = 2.0, services: Services | None = None):
    """Poll `condition` until truthy (without a deployment's liveness checks if `services` is None)."""
    if services is not None:
        return services.wait_for(what, condition, timeout=timeout, interval=interval)
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
    return result
