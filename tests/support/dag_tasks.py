"""Fixtures for the operator, sensor and transfer tests: a local Logfire server, Airflow
connections, DAG runs, logs. Each of those test folders' conftest imports the fixtures from here.

The operators are proven the way users run them: real DAG files (in `tests/dags/`) run through
Airflow's `dag.test()` in a subprocess, talking over loopback HTTP to a local Logfire-compatible
server that lives in the test process. The server's engine is the test's handle on the data:
tests insert exactly the rows they need and compare what the operators produced with what the
server returns for the same query.

Each test module starts its own server and runs its DAGs in one subprocess (one `dag.test()` per
run, several runs per call), because every fresh interpreter costs seconds of Airflow start-up.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from tests.conftest import DagRunReport, run_dags_in

UTC = timezone.utc
DAY = timedelta(days=1)
#: The logical date every test run uses. With a data-interval timetable, `dag.test(logical_date=D)`
#: infers the interval that *ends* at D, so the runs read the day before it.
LOGICAL_DATE = datetime(2026, 11, 28, tzinfo=UTC)
DAY_START = LOGICAL_DATE - DAY
DAY_END = LOGICAL_DATE
#: The read token the local server accepts. Distinctive, so that any leak of it is easy to find.
SECRET_TOKEN = "pylf_v1_us_SeCrEtH5opTokenQ8wZr4"
#: A well-formed token the server refuses; as secret as the good one.
BAD_TOKEN = "pylf_v1_us_BaDtOkEnH5nOtAcCePtEd7"

DAGS_DIR = Path(__file__).parent.parent / "dags"
#: A log line's time, as Airflow 3.1+ (`2026-12-02T08:03:36.144996Z [info ...`) and 3.0
#: (`[2026-12-02T07:49:06.164+0000] {dag.py:1230} INFO ...`, or `2026-12-02 07:50:19 [info ...`
#: from the task's own logger) print it; naive times are UTC.
_LOG_TIME = re.compile(r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?\]?\s")


def _log_time(match: re.Match[str]) -> datetime:
    """The matched time, in the one spelling Python 3.10's `fromisoformat` reads."""
    stamp, offset = match.group(1).replace(" ", "T"), match.group(2) or "Z"
    if "." in stamp:
        whole, fraction = stamp.split(".")
        stamp = f"{whole}.{fraction[:6].ljust(6, '0')}"
    return datetime.fromisoformat(stamp + ("+00:00" if offset == "Z" else f"{offset[:3]}:{offset[-2:]}"))


# -- the local server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """A local Logfire server with an empty engine, for one test module; it seeds its own rows."""
    engine = LocalEngine()
    try:
        with run_local_server(engine, token=SECRET_TOKEN) as running:
            yield running
    finally:
        engine.close()


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[LogfireClient]:
    """A client of the module's server, for the expected side of every comparison."""
    with LogfireClient.from_token(SECRET_TOKEN, base_url=server.url) as logfire:
        yield logfire


def server_count(client: LogfireClient, start: datetime, end: datetime, where: str = "true") -> int:
    """Rows of `records` the server has in `[start, end)` (its window is half-open)."""
    result = client.query_json_rows(
        f"SELECT count(*) AS n FROM records WHERE {where}", min_timestamp=start, max_timestamp=end, limit=1
    )
    return int(result["rows"][0]["n"])


def connection_env(conn_id: str, url: str, token: str = SECRET_TOKEN) -> dict[str, str]:
    """An Airflow connection of type `logfire`, given to the DAG subprocess as an environment variable."""
    conn = {"conn_type": "logfire", "host": url, "password": token}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}


# -- test data -------------------------------------------------------------------------------------


def records_table(
    timestamps: Sequence[datetime] | pa.Array,
    *,
    id_prefix: str,
    created_at: datetime | None = None,
    **columns: Sequence[Any] | pa.Array,
) -> pa.Table:
    """Rows for `LocalEngine.insert_arrow("records", ...)` with a unique `span_id` each.

    `span_id` is `id_prefix` followed by the row number, so a set of exported ids says exactly
    which rows arrived; other columns are optional (the engine fills missing ones).
    """
    count = len(timestamps)
    utc = pa.timestamp("us", tz="UTC")
    times = timestamps.cast(utc) if isinstance(timestamps, pa.Array) else pa.array(timestamps, utc)
    data: dict[str, Any] = {
        "start_timestamp": times,
        "span_id": pa.array([f"{id_prefix}{i:09d}" for i in range(count)], pa.string()),
        "span_name": pa.array([f"{id_prefix} row"] * count, pa.string()),
    }
    if created_at is not None:
        data["created_at"] = pa.array([created_at] * count, pa.timestamp("us", tz="UTC"))
    data.update(columns)
    return pa.table(data)


def ids_digest(span_ids: Iterable[str]) -> str:
    """Order-free fingerprint of a set of row ids (for checks made inside the DAG subprocess)."""
    return hashlib.sha256("\n".join(sorted(span_ids)).encode()).hexdigest()


# -- running DAGs ----------------------------------------------------------------------------------


def task_seconds(task_lines: str) -> float:
    """Wall-clock seconds from Airflow's "Task started" to the task's last log line.

    Not from dag.test()'s own start marker: the first task of a run also waits seconds for the
    in-process execution API to start.
    """
    lines = task_lines.splitlines()
    started = next((i for i, line in enumerate(lines) if "Task started" in line), 0)
    stamps = [_log_time(m) for line in lines[started:] if (m := _LOG_TIME.match(line))]
    assert len(stamps) >= 2, f"no timestamps in:\n{task_lines}"
    return (stamps[-1] - stamps[0]).total_seconds()


RunDags = Callable[..., list[DagRunReport]]


@pytest.fixture(scope="module")
def run_module_dags(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> RunDags:
    """Like the `run_dags` fixture, but module-scoped so a module's runs can share one subprocess.

    Call it as `run_module_dags([dag_file, ...], [{"dag_id", "logical_date", "conf"}], env={...})`.
    DAG files come from `dags/`; the `dags/sql/` folder is copied beside them for `.sql` templates.
    """

    def run(
        dag_files: Sequence[Path], runs: list[dict[str, Any]], env: dict[str, str] | None = None
    ) -> list[DagRunReport]:
        return run_dags_in(tmp_path_factory.mktemp("dag_runs"), dag_files, runs, env)

    return run


def assert_secrets_absent(reports: Iterable[DagRunReport], *secrets: str) -> None:
    """No secret in any run's log (task logs, exception texts), XComs or rendered template fields."""
    for report in reports:
        places = {
            "log": report.log,
            "xcom": json.dumps(report.xcom, default=str),
            "rendered fields": json.dumps(report.rendered, default=str),
        }
        for secret in secrets:
            for place, text in places.items():
                assert secret not in text, f"the read token leaked into the {place} of {report.dag_id}"
                # A token cut in two still leaks most of itself.
                assert secret[-16:] not in text, (
                    f"part of the token leaked into the {place} of {report.dag_id}"
                )
