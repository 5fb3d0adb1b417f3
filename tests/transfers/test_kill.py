"""A worker killed mid-export (SIGKILL) leaves nothing at the destination; the retry completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

END = datetime(2026, 11, 27, tzinfo=timezone.utc)
ROWS = 60_000
TOKEN = "pylf_v1_us_KiLlTeStToKeN9"

EXPORT = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

    task = LogfireToFileTransfer(task_id="export", destination=sys.argv[1], max_concurrency=1)
    context = {
        "data_interval_start": datetime.fromisoformat(sys.argv[2]),
        "data_interval_end": datetime.fromisoformat(sys.argv[3]),
    }
    print(task.execute(context))
    """
)


def test_sigkill_mid_export_then_retry(tmp_path):
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=ROWS, seed=9, end=END)
    destination = tmp_path / "exports" / "records.parquet"
    args = [
        sys.executable,
        "-c",
        EXPORT,
        str(destination),
        (END - timedelta(days=1)).isoformat(),
        END.isoformat(),
    ]
    with run_local_server(engine, token=TOKEN, latency_ms=300) as server:
        env = {
            **os.environ,
            "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                {"conn_type": "logfire", "host": server.url, "password": TOKEN}
            ),
        }
        worker = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not list(destination.parent.glob(".records.parquet.tmp-*")):
            assert worker.poll() is None, worker.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.05)
        time.sleep(0.7)  # a few pieces in
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

        assert not destination.exists(), "a killed export must not leave a file at the destination"
        leftovers = list(destination.parent.glob(".records.parquet.tmp-*"))
        assert len(leftovers) == 1, "SIGKILL leaves the hidden temporary file (nothing can remove it then)"

        retry = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert "left by an earlier attempt that was killed" in retry.stderr + retry.stdout
    assert not list(destination.parent.glob(".records.parquet.tmp-*"))
    table = pq.read_table(destination, columns=["trace_id", "span_id"])
    assert table.num_rows == ROWS
    assert len(set(zip(table["trace_id"].to_pylist(), table["span_id"].to_pylist(), strict=True))) == ROWS
