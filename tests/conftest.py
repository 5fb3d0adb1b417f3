"""Test-wide setup: a throwaway Airflow home with SQLite, set before anything imports Airflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_AIRFLOW_HOME / "dags"))


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
        marker.touch()
    return airflow_home


@dataclass
class DagRunReport:
    """What one `dag.test()` run did, read back from Airflow's database."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    xcom: dict[str, Any]
    rendered: dict[str, dict[str, Any]]
    log: str = field(repr=False, default="")


@pytest.fixture
def run_dags(airflow_db: Path, tmp_path: Path):
    """Copy DAG files into a fresh dags folder and run them with `dag.test()` in a subprocess.

    Call it as `run_dags([dag_file, ...], [{"dag_id": ..., "logical_date": iso}], env={...})`; it
    returns one `DagRunReport` per run. A subprocess keeps Airflow's global state (settings,
    ORM, secrets cache) out of the test process and gives each call a clean slate.
    """

    def run(
        dag_files: list[Path], runs: list[dict[str, Any]], env: dict[str, str] | None = None
    ) -> list[DagRunReport]:
        dags = tmp_path / "dags"
        dags.mkdir(exist_ok=True)
        for path in dag_files:
            shutil.copy(path, dags / Path(path).name)
            sql_dir = Path(path).parent / "sql"
            if sql_dir.is_dir() and not (dags / "sql").exists():
                shutil.copytree(sql_dir, dags / "sql")
        spec = tmp_path / "spec.json"
        out = tmp_path / "out.json"
        spec.write_text(json.dumps({"dags_folder": str(dags), "runs": runs}))
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).parent / "support" / "run_dags.py"), str(spec), str(out)],
            env={
                **os.environ,
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "False",
                **(env or {}),
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        log = proc.stdout + proc.stderr
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"dag.test() runner failed (exit {proc.returncode}):\n{log[-6000:]}")
        return [DagRunReport(**entry, log=log) for entry in json.loads(out.read_text())]

    return run
