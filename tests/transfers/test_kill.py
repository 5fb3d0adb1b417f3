"""A worker killed mid-export (SIGKILL) leaves nothing at the destination; the retry completes it.

Once for one file, once for a partitioned file set killed after some of its files were complete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

END = datetime(2026, 11, 27, tzinfo=timezone.utc)
ROWS = 60_000
TOKEN = "pylf_v1_us_KiLlTeStToKeN9"

EXPORT = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

    options = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    task = LogfireToFileTransfer(task_id="export", destination=sys.argv[1], max_concurrency=1, **options)
    context = {
        "data_interval_start": datetime.fromisoformat(sys.argv[2]),
        "data_interval_end": datetime.fromisoformat(sys.argv[3]),
    }
    print(task.execute(context))
    """
)


def _args(destination: Path, **options: object) -> list[str]:
    window = [(END - timedelta(days=1)).isoformat(), END.isoformat()]
    return [sys.executable, "-c", EXPORT, str(destination), *window, json.dumps(options)]


def _env(server: LocalServer) -> dict[str, str]:
    connection = {"conn_type": "logfire", "host": server.url, "password": TOKEN}
    return {**os.environ, "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(connection)}


def test_sigkill_mid_export_then_retry(tmp_path):
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=ROWS, seed=9, end=END)
    destination = tmp_path / "exports" / "records.parquet"
    args = _args(destination)
    with run_local_server(engine, token=TOKEN, latency_ms=300) as server:
        env = _env(server)
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


def test_sigkill_mid_file_set_then_retry(tmp_path):
    """Killed after several files of the set were complete: the retry leaves one whole set."""
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=ROWS, seed=9, end=END)
    root = tmp_path / "exports"
    args = _args(root / "records-{part}.parquet", partition_by=["hour"], max_rows_per_file=1_000)
    with run_local_server(engine, token=TOKEN, latency_ms=300) as server:
        env = _env(server)
        worker = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(list(root.glob("hour=*/.records-*.parquet.tmp-*"))) < 4:
            assert worker.poll() is None, worker.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the export never wrote several files"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

        assert not (root / "_SUCCESS").exists()
        assert not list(root.glob("hour=*/records-*.parquet")), "no file of a killed set is visible"
        killed = list(root.glob("hour=*/.records-*.parquet.tmp-*"))
        assert len(killed) >= 4

        retry = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert "left by an earlier attempt that was killed" in retry.stderr + retry.stdout
    manifest = json.loads((root / "_SUCCESS").read_text())
    listed = sorted(entry["path"] for entry in manifest["files"])
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert on_disk == sorted([*listed, "_SUCCESS"]), "only the retry's files, and no temporary file"
    table = pq.ParquetDataset(root).read(columns=["trace_id", "span_id"])
    assert table.num_rows == manifest["rows"] == ROWS
    assert len(set(zip(table["trace_id"].to_pylist(), table["span_id"].to_pylist(), strict=True))) == ROWS
