"""`make compat`: the test suite's compatibility subset on every supported (Python, Airflow) pair.

Each pair gets its own virtualenv under `.compat/` (git-ignored), installed from the pair's
known-good constraints file `constraints/airflow-<minor>-py<python>.txt`, and runs the subset
below. A summary table follows: pair, Airflow version, result, passed/failed/skipped, time.

    python scripts/compat.py                          # every pair
    python scripts/compat.py --pairs "3.10:3.0 3.13:3.3"
    python scripts/compat.py --subset ci              # the smaller subset CI runs
    python scripts/compat.py --freeze --pairs 3.10:3.0  # re-resolve and rewrite a constraints file

A pair is PYTHON:AIRFLOW_MINOR. Interpreters come from pyenv (`pyenv prefix`, ~/.pyenv/versions)
or PATH (`python3.10`); a missing one, or a pair Airflow itself does not support, is skipped with
a line saying why, and does not fail the run.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints"
VENVS = ROOT / ".compat"

#: The newest patch of each supported Airflow minor on PyPI (the constraints files pin it too).
AIRFLOW = {"3.0": "3.0.6", "3.1": "3.1.8", "3.2": "3.2.2", "3.3": "3.3.2"}
PYTHONS = ("3.10", "3.13")
#: Pythons each Airflow minor publishes support for (its `requires-python`): other pairs are skipped.
AIRFLOW_PYTHONS = {
    "3.0": ("3.9", "3.10", "3.11", "3.12"),
    "3.1": ("3.10", "3.11", "3.12", "3.13"),
    "3.2": ("3.10", "3.11", "3.12", "3.13"),
    "3.3": ("3.10", "3.11", "3.12", "3.13"),
}
#: Requirements held back when a constraints file is resolved (`--freeze`): what a plain
#: `pip install apache-airflow==X` would otherwise pull in newer than that Airflow works with.
#: On 3.0.6 an unconstrained resolve takes FastAPI 0.16x, Starlette 1.x, Cadwyn 8 and Pydantic 2.14:
#: the in-process Execution API then rejects every task's state update ("Remote server returned
#: validation error": body "Input should be a valid dictionary"), so no task runs under dag.test().
#: These are the releases of 3.0.6's time, with which it works.
HOLD_BACK: dict[str, tuple[str, ...]] = {
    "3.0": (
        "fastapi==0.116.1",
        "starlette==0.47.3",
        "cadwyn==5.4.4",
        "pydantic==2.11.7",
        "PyJWT==2.10.1",  # 2.15 refuses the iss=None that 3.0.6's API server signs; 2.10.1 (its time) takes it
        "universal_pathlib==0.2.6",  # 3.0.6's ObjectStoragePath cannot take 0.3's paths (_IncompatibleProtocolError)
    ),
    "3.1": (),
    #: 3.2.2 with svcs 26 loses the in-process Execution API's registry ("'State' object has no
    #: attribute 'svcs_registry'", every task fails at start); with Cadwyn 8 its TI state payload no
    #: longer builds ("TITerminalStatePayload needs a discriminator field"). 3.3 fixed both and caps
    #: FastAPI below 0.137; these are the versions 3.3.2 resolves to.
    "3.2": (
        "svcs==25.1.0",
        "cadwyn==7.0.0",
        "fastapi==0.136.3",
    ),
    "3.3": (),
}
#: The extras installed in every pair: the dev set, so that the constraints cover a developer too.
EXTRAS = "dev"

#: What `make compat` runs: every public class (hook, operators, sensor, trigger, transfer, dbapi),
#: the connection form as ProvidersManager and the API server see it, the local server, the
#: example DAGs through `dag.test()`, and the DAG-parse cost.
SUBSETS = {
    "full": (
        "tests/test_provider.py",
        "tests/test_dag_parse_cost.py",
        "tests/test_example_dags.py",
        "tests/test_exceptions.py",
        "tests/_airflow",
        "tests/hooks",
        "tests/operators",
        "tests/sensors",
        "tests/triggers",
        "tests/transfers",
        "tests/dbapi",
        "tests/client/test_client_live.py",
        "tests/local/test_local_http.py",
        "tests/local/test_local_otlp.py",
        "tests/local/test_local_sdk_compat.py",
        "tests/local/test_local_cli.py",
        "tests/local/test_demo.py",
        "tests/writers",
        "tests/core",
    ),
    #: CI's share (the oldest and newest pair): one test module per public class, run through
    #: `dag.test()` where the class is an operator, the connection form and the local server.
    "ci": (
        "tests/test_provider.py",
        "tests/test_dag_parse_cost.py",
        "tests/hooks/test_hook.py",
        "tests/operators/test_query_operator.py",
        "tests/sensors/test_sensor.py",
        "tests/triggers/test_trigger.py",
        "tests/transfers/test_transfer_windows.py",
        "tests/dbapi/test_connection_and_cursor.py",
        "tests/local/test_local_http.py",
    ),
}


@dataclass
class Result:
    pair: str
    airflow: str
    status: str  # passed / failed / skipped / error
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    install_s: float = 0.0
    test_s: float = 0.0
    note: str = ""


def constraints_file(python: str, minor: str) -> Path:
    return CONSTRAINTS / f"airflow-{minor}-py{python}.txt"


def find_python(version: str) -> str | None:
    """The interpreter for `version` (3.10): pyenv's newest patch, else `python3.10` on PATH."""
    candidates: list[str] = []
    if shutil.which("pyenv"):
        proc = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if proc.returncode == 0:
            candidates += [f"{p}/bin/python" for p in proc.stdout.split(":") if p.strip()]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python"), reverse=True)
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        candidate = candidate.strip()
        if not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == version:
            return candidate
    return None


def run(cmd: list[str], log, **kwargs) -> int:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, **kwargs).returncode


def make_venv(interpreter: str, venv: Path, log, pip_args: list[str]) -> bool:
    if venv.exists():
        shutil.rmtree(venv)
    if run([interpreter, "-m", "venv", str(venv)], log) != 0:
        return False
    return run([str(venv / "bin/python"), "-m", "pip", "install", "-q", *pip_args, "pip>=24"], log) == 0


def install(python: str, minor: str, interpreter: str, venv: Path, log, pip_args: list[str]) -> str:
    """Install the project from the pair's constraints; '' when done, else why not."""
    pins = constraints_file(python, minor)
    if not pins.exists():
        return f"no constraints file {pins.relative_to(ROOT)} (make it: scripts/compat.py --freeze)"
    stamp = venv / ".compat-stamp"
    digest = hashlib.sha256(pins.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return ""  # already installed from these very pins
    if not make_venv(interpreter, venv, log, pip_args):
        return "could not create the virtualenv (see the log)"
    cmd = [str(venv / "bin/python"), "-m", "pip", "install", "--no-compile", *pip_args]
    if run([*cmd, "-c", str(pins), "-e", f".[{EXTRAS}]"], log) != 0:
        return "pip install failed (see the log)"
    stamp.write_text(digest)
    return ""


#: The resolver `--freeze` uses: pip backtracks for tens of minutes through the Amazon provider's
#: aiobotocore/s3fs/pyathena ranges on some pairs; uv resolves the same requirements in seconds,
#: for the pair's Python, without its interpreter. Installing the result stays pip's job.
UV = "uv==0.13.9"


def resolver(log) -> str:
    """uv, in a tools virtualenv of its own under .compat/ (made once)."""
    tools = VENVS / ".tools"
    uv = tools / "bin/uv"
    if not uv.exists():
        run([sys.executable, "-m", "venv", str(tools)], log)
        run([str(tools / "bin/python"), "-m", "pip", "install", "-q", UV], log)
    return str(uv)


def freeze(python: str, minor: str, interpreter: str, venv: Path, log, pip_args: list[str]) -> str:
    """Resolve apache-airflow==X.Y.Z and the project anew (holding back HOLD_BACK), pin it, install it."""
    requirements = [f"apache-airflow=={AIRFLOW[minor]}", *HOLD_BACK[minor], f"-e .[{EXTRAS}]"]
    with tempfile.TemporaryDirectory(prefix="compat-freeze-") as tmp:
        wanted, resolved = Path(tmp) / "requirements.in", Path(tmp) / "resolved.txt"
        wanted.write_text("\n".join(requirements) + "\n")
        cmd = [resolver(log), "pip", "compile", str(wanted), "--quiet", "--no-header", "--no-annotate"]
        cmd += [
            "--python-version",
            python,
            "--python-platform",
            f"{platform.machine()}-manylinux_2_28",
            "-o",
            str(resolved),
        ]
        if run(cmd, log) != 0:
            return "the pair could not be resolved (see the log)"
        pins = [
            line for line in resolved.read_text().splitlines() if "==" in line and not line.startswith("-e")
        ]
    write_constraints(python, minor, pins)
    return install(python, minor, interpreter, venv, log, pip_args)


def write_constraints(python: str, minor: str, pins: list[str]) -> None:
    """The pair's constraints file: every resolved pin but the project itself."""
    keep = sorted((p.strip() for p in pins if not p.startswith(("pip==", "setuptools=="))), key=str.lower)
    path = constraints_file(python, minor)
    path.parent.mkdir(exist_ok=True)
    header = (
        f"# Known-good pins for airflow-provider-logfire on Apache Airflow {AIRFLOW[minor]}, Python {python}.\n"
        f"#   pip install airflow-provider-logfire -c {path.relative_to(ROOT)}\n"
        f"# Resolved by `python scripts/compat.py --freeze --pairs {python}:{minor}` and proven by `make compat`.\n"
    )
    path.write_text(header + "\n".join(keep) + "\n")


def run_tests(venv: Path, paths: tuple[str, ...], log, extra: list[str]) -> tuple[int, int, int, int]:
    """(exit code, passed, failed, skipped) from pytest's JUnit report."""
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp:
        report = Path(tmp) / "junit.xml"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV"))}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        cmd = [str(venv / "bin/python"), "-m", "pytest", "-v", "-p", "no:cacheprovider"]
        code = run([*cmd, f"--junitxml={report}", *extra, *paths], log, env=env)
        if not report.exists():
            return code, 0, 0, 0
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        total, failures, errors, skipped = (
            int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")
        )
        return code, total - failures - errors - skipped, failures + errors, skipped


def parse_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.replace(",", " ").split():
        python, _, minor = item.partition(":")
        if minor not in AIRFLOW:
            raise SystemExit(f"unknown Airflow minor in {item!r}: expected one of {', '.join(AIRFLOW)}")
        pairs.append((python, minor))
    return pairs


def one_pair(python: str, minor: str, args: argparse.Namespace) -> Result:
    pair = f"py{python} + Airflow {minor}"
    result = Result(pair, AIRFLOW[minor], "skipped")
    if python not in AIRFLOW_PYTHONS[minor]:
        result.note = f"Airflow {minor} does not support Python {python} (its requires-python: {', '.join(AIRFLOW_PYTHONS[minor])})"
        return result
    interpreter = find_python(python)
    if interpreter is None:
        result.note = f"no Python {python} interpreter on this machine (pyenv or python{python} on PATH)"
        return result
    venv = VENVS / f"py{python}-airflow{minor}"
    VENVS.mkdir(exist_ok=True)
    log_path = VENVS / f"py{python}-airflow{minor}.log"
    pip_args = ["--no-cache-dir"] if args.no_cache else []
    with log_path.open("w") as log:
        started = time.monotonic()
        step = freeze if args.freeze else install
        if args.fresh and venv.exists():
            shutil.rmtree(venv)
        problem = step(python, minor, interpreter, venv, log, pip_args)
        result.install_s = time.monotonic() - started
        if problem:
            result.status, result.note = "error", f"{problem}: {log_path.relative_to(ROOT)}"
            return result
        started = time.monotonic()
        code, result.passed, result.failed, result.skipped = run_tests(
            venv, SUBSETS[args.subset], log, args.pytest_args
        )
        result.test_s = time.monotonic() - started
    result.status = "passed" if code == 0 else "failed"
    if code != 0:
        result.note = f"log: {log_path.relative_to(ROOT)}"
    if code != 0 and not (result.passed or result.failed or result.skipped):
        result.status, result.note = "error", f"pytest wrote no report (killed?): {result.note}"
    return result


def table(results: list[Result]) -> str:
    head = ("pair", "Airflow", "result", "passed", "failed", "skipped", "install", "tests", "note")
    rows = [
        (
            r.pair,
            r.airflow,
            r.status,
            str(r.passed),
            str(r.failed),
            str(r.skipped),
            f"{r.install_s:.0f}s",
            f"{r.test_s:.0f}s",
            r.note,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_pairs = " ".join(f"{p}:{m}" for m in AIRFLOW for p in PYTHONS)
    parser.add_argument("--pairs", default=os.environ.get("PAIRS") or default_pairs)
    parser.add_argument("--subset", choices=sorted(SUBSETS), default="full")
    parser.add_argument("--freeze", action="store_true", help="re-resolve and rewrite the constraints files")
    parser.add_argument("--fresh", action="store_true", help="rebuild the virtualenvs even if up to date")
    parser.add_argument("--no-cache", action="store_true", help="pip --no-cache-dir (a fresh machine's time)")
    parser.add_argument(
        "--require", action="store_true", help="a pair skipped for want of its interpreter fails the run (CI)"
    )
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args()
    results = []
    for python, minor in parse_pairs(args.pairs):
        print(f"== py{python} + Airflow {AIRFLOW[minor]} ({args.subset} subset) ...", flush=True)
        result = one_pair(python, minor, args)
        print(
            f"   {result.status}: {result.passed} passed, {result.failed} failed, {result.skipped} skipped"
            f" in {result.install_s + result.test_s:.0f}s {result.note}".rstrip(),
            flush=True,
        )
        if result.status == "failed":
            print(failures(VENVS / f"py{python}-airflow{minor}.log"), flush=True)
        if args.require and result.status == "skipped" and python in AIRFLOW_PYTHONS[minor]:
            result.status = "error"
        results.append(result)
    print()
    print(table(results))
    return 1 if any(r.status in ("failed", "error") for r in results) else 0


def failures(log_path: Path) -> str:
    """The pytest summary lines of a pair's failed and erroring tests, for CI's output."""
    lines = log_path.read_text(errors="replace").splitlines()
    return "\n".join(f"   {line[:200]}" for line in lines if line.startswith(("FAILED ", "ERROR ")))


if __name__ == "__main__":
    sys.exit(main())
