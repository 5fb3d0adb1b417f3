"""Test-wide setup: a throwaway Airflow home with SQLite, set before anything imports Airflow."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_AIRFLOW_HOME / "dags"))
_RUNNER = Path(__file__).parent / "support" / "run_dags.py"


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """An initialised Airflow metadata database (SQLite) for tests that run DAGs or the CLI."""
    marker = airflow_home / ".db-ready"
    if not marker.exists():
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            env=os.environ.copy(),
        )
        copy_airflow_db(airflow_home / "airflow.db", airflow_home / _MIGRATED)
        marker.touch()
    return airflow_home


#: A copy of the session's database as `db migrate` left it, before any test wrote to it.
_MIGRATED = "migrated.db"


def fresh_airflow_home(airflow_db: Path, home: Path) -> dict[str, str]:
    """Environment for a subprocess whose Airflow home is `home`, with a just-migrated database.

    For tests that assert what the whole database holds (every asset event, the scheduler's
    queue): the session's database also holds whatever earlier tests' DAG runs wrote.
    """
    home.mkdir(parents=True, exist_ok=True)
    copy_airflow_db(airflow_db / _MIGRATED, home / "airflow.db")
    # The session's config too: processes started at once on a home without one would each write
    # their own, with its own Fernet key, and not read each other's encrypted trigger arguments.
    if (airflow_db / "airflow.cfg").exists():
        shutil.copy(airflow_db / "airflow.cfg", home / "airflow.cfg")
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def copy_airflow_db(source: Path, target: Path) -> None:
    """A consistent copy of the Airflow database `source` at `target`, through SQLite's backup API.

    Never copy the live file as bytes from this process: Airflow keeps it in WAL mode, and closing
    any plain file descriptor on it drops every POSIX lock SQLite holds on it in this process. The
    next process to close its last connection then takes itself for the only user and resets the
    WAL and its shared-memory index, and this process's open connections (the in-process API
    server, the tests that read the database straight) read "database disk image is malformed".
    """
    reading = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        with copy:
            reading.backup(copy)
    finally:
        copy.close()
        reading.close()


@dataclass
class DagRunReport:
    """What one `dag.test()` run did, as read back from Airflow's database by `support/run_dags.py`."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    xcom: dict[str, Any]
    rendered: dict[str, dict[str, Any]]
    #: Each task's try number when the run ended (1 for a task that ran once, never retried).
    tries: dict[str, int] = field(default_factory=dict)
    #: Everything the subprocess printed (all runs of the call): task logs, tracebacks.
    log: str = field(repr=False, default="")

    def task_log(self, task_id: str) -> str:
        """The log lines of `task_id` in this run."""
        return task_log(self.log, task_id, run_id=self.run_id)


#: Airflow 3.0's `dag.test()` supervisor runs in the task's process and logs, at debug level, each
#: message it is sent, unredacted: among them the `MaskSecret` that Airflow's own connection
#: lookup sends with the connection's password (`execution_time/context.py`), for any connection.
#: Airflow 3.1 masks before it sends and the real supervisor omits the body; the provider cannot
#: change it, so these lines (and only these) are left out of what token checks read.
_AIRFLOW_30_MASK_MESSAGE = re.compile(r"^.*\bSending request\s+msg=MaskSecret\(.*$\n?", re.MULTILINE)


def without_airflow_30_in_process_mask_messages(log: str) -> str:
    from airflow import __version__ as airflow_version

    if not airflow_version.startswith("3.0."):
        return log
    return _AIRFLOW_30_MASK_MESSAGE.sub("", log)


#: How a `dag.test()` subprocess must print for its output to be read line by line: one stream,
#: in order (Airflow 3.1 logs tasks to stdout and its `[DAG TEST]` markers to stderr), and no
#: tracebacks wrapped at a terminal's 80 columns.
DAG_TEST_OUTPUT_ENV = {"PYTHONUNBUFFERED": "1", "COLUMNS": "1000"}


def task_log(log: str, task_id: str, *, run_id: str | None = None) -> str:
    """The lines `dag.test()` printed between starting and ending `task_id` (of `run_id`).

    `dag.test()` runs tasks one at a time in its own process, so a task's lines (its log records,
    its exception's traceback, a trigger it deferred to) sit between these two markers.
    """
    lines = log.splitlines()
    start_marker = f"[DAG TEST] starting task_id={task_id} "
    end_marker = f"[DAG TEST] end task task_id={task_id} "
    chunks: list[str] = []
    inside = False
    for index, line in enumerate(lines):
        if inside and _ANY_TASK_START in line and start_marker not in line:
            inside = False  # Airflow 3.0 prints no end marker after a task that succeeded
        if start_marker in line:
            inside = run_id is None or _next_mentions(lines, index, run_id)
        if inside:
            chunks.append(line)
        if inside and end_marker in line:
            inside = False
    return "\n".join(chunks)


_ANY_TASK_START = "[DAG TEST] starting task_id="


def logged_at_warning(log: str, message: str) -> bool:
    """Whether a line of `log` holds `message` at warning level, in any Airflow 3's log format."""
    return any(message in line and _WARNING_LEVEL.search(line) for line in log.splitlines())


#: Airflow 3.1+: `... [warning  ] message`; Airflow 3.0: `[...] {file.py:12} WARNING - message`.
_WARNING_LEVEL = re.compile(r"\[warning\s*\]|\} WARNING - ")


def _next_mentions(lines: list[str], index: int, text: str) -> bool:
    """Whether the line after `index` (dag.test's "running task <TaskInstance ...>") mentions `text`."""
    return index + 1 < len(lines) and text in lines[index + 1]


def run_dags_in(
    work: Path,
    dag_files: Sequence[Path],
    runs: list[dict[str, Any]],
    env: dict[str, str] | None = None,
) -> list[DagRunReport]:
    """Copy DAG files (and a `sql/` folder beside them) into `work/dags`; `dag.test()` each run.

    A subprocess keeps Airflow's global state (settings, ORM, secrets cache) out of the test
    process and gives each call a clean slate; one subprocess serves all `runs` of a call, since
    every fresh interpreter costs seconds of Airflow start-up.
    """
    dags = work / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    for path in map(Path, dag_files):
        shutil.copy(path, dags / path.name)
        sql_dir = path.parent / "sql"
        if sql_dir.is_dir() and not (dags / "sql").exists():
            shutil.copytree(sql_dir, dags / "sql")
    spec, out = work / "spec.json", work / "out.json"
    spec.write_text(json.dumps({"dags_folder": str(dags), "runs": runs}))
    proc = subprocess.run(
        [sys.executable, str(_RUNNER), str(spec), str(out)],
        env={
            **os.environ,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "False",
            **DAG_TEST_OUTPUT_ENV,
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    log = without_airflow_30_in_process_mask_messages(proc.stdout)
    (work / "dag_test.log").write_text(log)  # kept beside the run for whoever debugs a failure
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"dag.test() runner failed (exit {proc.returncode}):\n{log[-6000:]}")
    return [DagRunReport(**entry, log=log) for entry in json.loads(out.read_text())]


@pytest.fixture
def run_dags(airflow_db: Path, tmp_path: Path):
    """Run DAG files with `dag.test()` in a subprocess, in this test's own folder.

    Call it as `run_dags([dag_file, ...], [{"dag_id": ..., "logical_date": iso}], env={...})`; it
    returns one `DagRunReport` per run.
    """

    def run(
        dag_files: Sequence[Path], runs: list[dict[str, Any]], env: dict[str, str] | None = None
    ) -> list[DagRunReport]:
        return run_dags_in(tmp_path, dag_files, runs, env)

    return run


@contextmanager
def airflow_api_client() -> Iterator[Any]:
    """Airflow's API server app in this process, signed in as an admin of the simple auth manager.

    With `simple_auth_manager_all_admins`, Airflow 3.3 lets every request in; 3.0 to 3.2 still want
    a token, which `GET /auth/token` hands out without credentials in that mode.
    """
    from airflow.api_fastapi.app import create_app
    from airflow.providers_manager import ProvidersManager
    from fastapi.testclient import TestClient

    # Forget the hooks other tests loaded here, as a fresh API server process would not know them:
    # without Flask-AppBuilder, 3.1 reads each hook's form widgets once, through stand-ins for it.
    ProvidersManager()._cleanup()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
        with TestClient(create_app("core")) as client:
            token = client.get("/auth/token")
            if token.status_code in (200, 201):
                client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yield client
