"""The exporter under a storm of faults: exactly the right rows, or a clean failure.

A fault-injecting TCP proxy sits between the exporter and the local server and serves, in a fixed
shuffled order, rate limits with Retry-After, 5xx pages, connection resets and Arrow bodies cut
off mid-stream. The report lists how many of each were injected and survived.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.client import LogfireClient, LogfireServerError, RetryPolicy
from airflow_provider_logfire.core.exporter import ExportPlan, export_window
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.faults import Fault, fault_proxy
from airflow_provider_logfire.local.testing import run_local_server

END = datetime(2026, 11, 27, tzinfo=timezone.utc)
WINDOW = TimeWindow(END - timedelta(days=1), END)
ROWS = 100_000


@pytest.fixture(scope="module")
def server():
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=ROWS, seed=21, end=END)
    with run_local_server(engine) as running:
        yield running
    engine.close()


def _storm(seed: int) -> list[Fault | None]:
    faults = (
        [Fault.status_code(429, retry_after="0")] * 6
        + [Fault.status_code(500)] * 3
        + [Fault.status_code(502, body=b"<html>bad gateway</html>", content_type="text/html")] * 3
        + [Fault.status_code(503)] * 3
        + [Fault.reset()] * 5
        + [Fault.truncate(after_bytes=300_000)] * 5
    )
    # Interleave clean passes so that every piece eventually gets through.
    schedule: list[Fault | None] = [*faults, *([None] * 15)]
    random.Random(seed).shuffle(schedule)
    return schedule


def test_export_survives_a_fault_storm_exactly(server, tmp_path, capsys):
    destination = tmp_path / "records.parquet"
    storm = _storm(seed=1)
    with fault_proxy(server.url) as proxy:
        for fault in storm:
            # A pass-through slot is a fault that does nothing: a very short delay.
            proxy.inject(fault or Fault.slow(0.0))
        # Small pieces (about 50 of them) so that the whole storm is served during the export.
        plan = ExportPlan("SELECT * FROM records", WINDOW, target_rows=2_000, page_limit=2_500)
        # Concurrent requests draw faults in whatever order they reach the proxy, so one unlucky
        # request may meet many faults in a row. A budget larger than the whole storm makes the
        # outcome independent of that interleaving; giving up is tested below.
        retry = RetryPolicy(
            max_attempts=sum(f is not None for f in storm) + 1, initial_delay=0.01, max_delay=0.2
        )
        with LogfireClient.from_token(server.token, base_url=proxy.url, retry=retry) as client:
            summary = export_window(client, plan, destination)
        served = dict(proxy.served)
        assert not proxy.faults, "the export ended before the whole storm was served"
    table = pq.read_table(destination, columns=["trace_id", "span_id", "start_timestamp"])
    keys = set(zip(table["trace_id"].to_pylist(), table["span_id"].to_pylist(), strict=True))
    assert table.num_rows == ROWS
    assert len(keys) == ROWS, "a row was doubled"
    assert summary.rows == ROWS and summary.files == (str(destination),)
    injected = {kind: n for kind, n in served.items() if kind != "slow"}
    with capsys.disabled():
        print(f"\nfaults injected and survived: {injected}; requests through the proxy: {proxy.requests}")
    assert injected == {
        "status_429": 6,
        "status_500": 3,
        "status_502": 3,
        "status_503": 3,
        "reset": 5,
        "truncate": 5,
    }


def test_export_that_cannot_succeed_leaves_nothing(server, tmp_path):
    destination = tmp_path / "records.parquet"
    destination.write_bytes(b"the previous export")
    with fault_proxy(server.url) as proxy:
        proxy.inject(Fault.slow(0.0), *[Fault.status_code(503)] * 200)  # the count query passes, then nothing
        with (
            LogfireClient.from_token(
                server.token, base_url=proxy.url, retry=RetryPolicy(max_attempts=3, initial_delay=0.01)
            ) as client,
            pytest.raises(LogfireServerError, match="HTTP 503"),
        ):
            export_window(client, ExportPlan("SELECT * FROM records", WINDOW), destination)
    assert destination.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.parquet"]
