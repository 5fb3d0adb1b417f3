"""LogfireDataAvailableSensor through `dag.test()`: it waits, defers, fails fast, skips when told.

How Airflow 3.3's `dag.test()` runs a deferrable task (airflow/sdk/definitions/dag.py, `_run_task`):
the task runs in-process until it raises `TaskDeferred`; the trigger is then rebuilt from its
serialised kwargs and run inline (`InProcessTestSupervisor.run_trigger_in_process`, i.e.
`asyncio.run` of the trigger's first event), and the task resumes in `execute_complete` with that
event. No triggerer process is involved, and the `timeout` given to `defer()` is not enforced:
a trigger that never fires blocks `dag.test()` for good. So the deferrable sensor that waits here
is made to succeed by loading its data from a thread of this process while the run is underway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from airflow_provider_logfire.local.faults import Fault, FaultProxy, fault_proxy
from airflow_provider_logfire.local.testing import LocalServer
from tests.support.dag_tasks import (
    BAD_TOKEN,
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    UTC,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    records_table,
    task_seconds,
)

DAY_ROWS, ERROR_ROWS = 600, 40  # as in dags/sensor_dags.py
INGESTED_AT = DAY_END + timedelta(minutes=10)
WAIT_DAY = datetime(2026, 11, 20, tzinfo=UTC)
#: How long the awaited data stays absent after the sensor has started asking for it.
ABSENT_FOR = 3.0


def _day_rows() -> pa.Table:
    step = (DAY_END - DAY_START) / DAY_ROWS
    times = [DAY_START + i * step for i in range(DAY_ROWS)]
    levels = [17 if i % (DAY_ROWS // ERROR_ROWS) == 0 else 9 for i in range(DAY_ROWS)]
    # Just outside the window on both sides: never counted.
    times += [DAY_START - timedelta(microseconds=1), DAY_END]
    levels += [17, 17]
    return records_table(times, id_prefix="day", created_at=INGESTED_AT, level=pa.array(levels, pa.int32()))


class _LoadWhenAsked(threading.Thread):
    """Loads the awaited rows once the sensor has asked twice (its first poke and a trigger poll)
    and then kept asking for `ABSENT_FOR` seconds: so the run provably waited while they were absent."""

    def __init__(self, server: LocalServer, proxy: FaultProxy) -> None:
        super().__init__(daemon=True, name="load-when-asked")
        self.server, self.proxy = server, proxy
        self.requests_before_load: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while self.proxy.requests < 2 and time.monotonic() < deadline:
            if self.stop.wait(0.05):
                return
        if self.proxy.requests >= 2:
            if self.stop.wait(ABSENT_FOR):
                return
            self.requests_before_load = self.proxy.requests
        # Load even if the sensor never asked: dag.test() does not time triggers out, so a
        # sensor left waiting would hang the run instead of failing this test.
        times = [WAIT_DAY + timedelta(minutes=10 * i) for i in range(60)]
        self.server.engine.insert_arrow(
            "records", records_table(times, id_prefix="late", created_at=INGESTED_AT)
        )


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as running:
        yield running


@pytest.fixture(scope="module")
def revoking_proxy(server: LocalServer) -> Iterator[FaultProxy]:
    """Each of the two `revoked_while_deferred*` sensors: its first poke passes, its first trigger
    poll meets a 401 (the tasks run one after the other, so the queue serves them in turn)."""
    refused = Fault.status_code(401, body=b'{"detail": "Invalid token"}', content_type="application/json")
    with fault_proxy(server.url) as running:
        running.inject(Fault.slow(0), refused, Fault.slow(0), refused)
        yield running


@pytest.fixture(scope="module")
def loader(server: LocalServer, proxy: FaultProxy) -> Iterator[_LoadWhenAsked]:
    thread = _LoadWhenAsked(server, proxy)
    yield thread
    thread.stop.set()
    thread.join(5)


@pytest.fixture(scope="module")
def report(
    server: LocalServer,
    proxy: FaultProxy,
    revoking_proxy: FaultProxy,
    loader: _LoadWhenAsked,
    run_module_dags: RunDags,
) -> DagRunReport:
    server.engine.insert_arrow("records", _day_rows())
    loader.start()
    (run,) = run_module_dags(
        [DAGS_DIR / "sensor_dags.py"],
        [{"dag_id": "lf_sensors", "logical_date": LOGICAL_DATE.isoformat()}],
        env={
            **connection_env("logfire_default", server.url),
            **connection_env("logfire_watch", proxy.url),
            **connection_env("logfire_bad", server.url, token=BAD_TOKEN),
            **connection_env("logfire_revoking", revoking_proxy.url),
        },
    )
    return run


def test_deferrable_sensor_waits_for_absent_data_then_succeeds(
    report: DagRunReport, proxy: FaultProxy, loader: _LoadWhenAsked
) -> None:
    log = report.task_log("wait_deferred")
    assert report.tasks["wait_deferred"] == "success", log[-4000:]
    assert loader.requests_before_load is not None, "the sensor never asked for the data"
    assert proxy.requests > loader.requests_before_load  # it asked again after the rows landed
    assert "Pausing task as DEFERRED" in log
    assert "[DAG TEST] running trigger in line" in log
    # The trigger polled (each poll says so) while the day was empty, then saw the 60 rows.
    assert log.count("Logfire data check: 0 row(s) in [2026-11-20T00:00:00+00:00") >= 3
    assert "Logfire data is available: 60 row(s) in [2026-11-20T00:00:00+00:00" in log
    assert task_seconds(log) >= ABSENT_FOR


@pytest.mark.parametrize("mode", ["deferred", "poke"])
def test_bad_token_fails_fast_with_the_401_message(report: DagRunReport, mode: str) -> None:
    task_id = f"bad_token_{mode}"
    log = report.task_log(task_id)
    assert report.tasks[task_id] == "failed", log[-3000:]
    # Well before its 60 s timeout (a wide margin, for slow machines): a refused token is not "not yet".
    assert task_seconds(log) < 30
    assert "Logfire refused the read token (HTTP 401)" in log
    assert "Invalid read token" in log  # the local server answers as the service does
    assert "Pausing task as DEFERRED" not in log


@pytest.mark.parametrize("mode", ["deferred", "poke"])
def test_bad_token_with_soft_fail_is_skipped(report: DagRunReport, mode: str) -> None:
    task_id = f"bad_token_soft_{mode}"
    log = report.task_log(task_id)
    assert report.tasks[task_id] == "skipped", log[-3000:]
    assert task_seconds(log) < 30
    assert "The Logfire data check cannot succeed: Logfire refused the read token (HTTP 401)" in log


def test_a_token_revoked_while_deferred_ends_the_wait(
    report: DagRunReport, revoking_proxy: FaultProxy
) -> None:
    """The trigger's own error path: without it, dag.test() (and a triggerer) would poll forever."""
    assert dict(revoking_proxy.served) == {"slow": 2, "status_401": 2}
    assert revoking_proxy.requests == 4  # one poke and one trigger poll per sensor, nothing more
    for task_id, state in (("revoked_while_deferred", "failed"), ("revoked_while_deferred_soft", "skipped")):
        log = report.task_log(task_id)
        assert report.tasks[task_id] == state, log[-3000:]
        assert "Pausing task as DEFERRED" in log
        assert "Logfire data check: 0 row(s) in [2026-11-10T00:00:00+00:00" in log
        assert "Waiting for Logfire data failed: Logfire refused the read token (HTTP 401)" in log


def test_poke_mode_counts_exactly_the_window(report: DagRunReport) -> None:
    assert report.tasks["poke_exact"] == "success", report.task_log("poke_exact")[-3000:]
    assert f"Logfire data check: {DAY_ROWS:,} row(s) in [2026-11-27T00:00:00+00:00" in report.task_log(
        "poke_exact"
    )
    log = report.task_log("poke_one_short")
    assert report.tasks["poke_one_short"] == "failed"
    assert "AirflowSensorTimeout" in log
    assert log.count(f"{DAY_ROWS:,} row(s) in") >= 2  # it kept poking until the timeout
    assert f"(need {DAY_ROWS + 1:,})" in log


def test_where_narrows_the_rows_counted(report: DagRunReport) -> None:
    assert report.tasks["where_errors"] == "success", report.task_log("where_errors")[-3000:]
    assert f"Logfire data check: {ERROR_ROWS:,} row(s)" in report.task_log("where_errors")
    assert report.rendered["where_errors"]["where"] == "level >= 17"
    # Nothing matches: times out, and soft_fail turns that into a skip.
    assert report.tasks["where_absent"] == "skipped"
    assert "Logfire data check: 0 row(s)" in report.task_log("where_absent")


def test_custom_sql(report: DagRunReport) -> None:
    assert report.tasks["custom_sql"] == "success", report.task_log("custom_sql")[-3000:]
    rendered = report.rendered["custom_sql"]["sql"]
    assert rendered == f"SELECT count(*) >= {ERROR_ROWS} AS ready FROM records WHERE level >= 17"
    assert "custom check returned True" in report.task_log("custom_sql")
    assert report.tasks["custom_sql_false"] == "failed"
    assert "custom check returned False" in report.task_log("custom_sql_false")


def test_watermark_with_settle(report: DagRunReport) -> None:
    settled = report.task_log("watermark_settled")
    assert report.tasks["watermark_settled"] == "success", settled[-3000:]
    assert "row(s) ingested at or after 2026-11-28T00:05:00+00:00: the window has settled" in settled
    pending = report.task_log("watermark_pending")
    assert report.tasks["watermark_pending"] == "failed"
    assert "no row ingested at or after 2026-11-28T00:30:00+00:00 yet" in pending


def test_no_token_anywhere(report: DagRunReport) -> None:
    assert_secrets_absent([report], SECRET_TOKEN, BAD_TOKEN)
