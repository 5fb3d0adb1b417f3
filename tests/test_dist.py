"""The built wheel works where nothing else is installed: a fresh virtualenv, pinned by constraints.txt.

Slow (installs Airflow twice over into a new environment), so marked `dist`: `make dist` runs it
on the wheel it built (`LOGFIRE_DIST_DIR`); without that variable the test builds its own wheel.
Not part of the default `pytest` run (`addopts` deselects `dist`).

- With no extras: the example DAGs parse in a DagBag with no import error (no local server, no
  pandas or polars needed to define DAGs).
- With `[local]`: `logfire-local serve` starts from the virtualenv's own script and answers a query.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.dist, pytest.mark.timeout(1800)]  # pip installs Airflow, twice

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "pylf_v1_local_DiStTeStToKeN5"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("LOGFIRE_DIST_DIR")
    if folder is None:
        out = tmp_path_factory.mktemp("dist")
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
            check=True,
            capture_output=True,
        )
        folder = str(out)
    (found,) = Path(folder).glob("airflow_provider_logfire-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fresh")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True)
    return home / "venv"


def _pip_install(venv: Path, requirement: str) -> None:
    proc = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(ROOT / "constraints.txt"),
            requirement,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _env(home: Path) -> dict[str, str]:
    """The machine's environment less the project's: a throwaway Airflow home, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV"))}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


PARSE = """
import json, sys
import airflow_provider_logfire
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])  # AIRFLOW__CORE__LOAD_EXAMPLES=False: only these
missing = []
for name in ("datafusion", "pandas", "polars", "s3fs"):
    try:
        __import__(name)
    except ImportError:
        missing.append(name)
print(json.dumps({"package": airflow_provider_logfire.__file__, "dags": sorted(bag.dag_ids),
                  "errors": {k: str(v) for k, v in bag.import_errors.items()}, "not_installed": missing}))
"""

QUERY = """
import json, sys
from airflow_provider_logfire.client import LogfireClient
with LogfireClient.from_token(sys.argv[2], base_url=sys.argv[1]) as client:
    result = client.query_json_rows("SELECT count(*) AS n FROM records", limit=1)
print(json.dumps(result["rows"]))
"""


def test_the_wheel_without_extras_parses_the_example_dags(wheel: Path, venv: Path, tmp_path: Path):
    _pip_install(venv, str(wheel))
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PARSE, str(ROOT / "example_dags")],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the repository: the package must come from the wheel
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["package"].startswith(str(venv)), report["package"]
    assert report["errors"] == {}
    assert report["dags"] == sorted(p.stem for p in (ROOT / "example_dags").glob("*.py"))
    assert report["not_installed"] == ["datafusion", "pandas", "polars", "s3fs"], "no extra was installed"


def test_the_wheel_with_local_serves_a_query(wheel: Path, venv: Path, tmp_path: Path):
    _pip_install(venv, f"{wheel}[local]")
    ready = tmp_path / "server.url"
    command = [str(venv / "bin" / "logfire-local"), "serve", "--port", "0", "--ready-file", str(ready)]
    command += ["--demo-days", "1", "--demo-rows-per-day", "500"]
    env = {**_env(tmp_path), "LOGFIRE_LOCAL_TOKEN": TOKEN}
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while not (ready.exists() and ready.read_text().strip()):
            assert server.poll() is None, server.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the local server did not start"
            time.sleep(0.1)
        url = ready.read_text().strip()
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-c", QUERY, url, TOKEN],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(30)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["n"] > 0
