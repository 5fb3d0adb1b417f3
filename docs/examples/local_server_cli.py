"""Run `logfire-local serve` from a script: your own Parquet export as data, kept in --data-dir.

Self-contained: writes a small Parquet file with only four of the `records` columns, serves it,
queries it, stops the server (SIGTERM), and starts it again to show the data was kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_logfire.client import LogfireClient

work = Path(tempfile.mkdtemp())
start = datetime(2026, 11, 27, tzinfo=timezone.utc)
export = work / "exports" / "records.parquet"
export.parent.mkdir()
pq.write_table(
    pa.table(
        {
            "start_timestamp": [start + timedelta(minutes=i) for i in range(1_440)],
            "service_name": ["billing"] * 1_440,
            "level": pa.array([17 if i % 100 == 0 else 9 for i in range(1_440)], pa.int32()),
            "message": [f"invoice {i} sent" for i in range(1_440)],
        }
    ),
    export,
)


def serve(*flags: str) -> tuple[subprocess.Popen, str]:
    """Start the server on a free port; return it once it answers, with its base URL."""
    ready = work / "server.url"
    ready.unlink(missing_ok=True)
    # --8<-- [start:command]
    command = [
        sys.executable, "-m", "airflow_provider_logfire.local", "serve",  # or: logfire-local serve
        "--port", "0",  # any free port; the URL is written to --ready-file
        "--ready-file", str(ready),
        "--data-dir", str(work / "db"),  # Parquet files that outlive the process
        "--latency-ms", "20",  # answer like a service across the internet
        "--log-level", "warning",
        *flags,
    ]  # fmt: skip
    server = subprocess.Popen(command, env={**os.environ, "LOGFIRE_LOCAL_TOKEN": "pylf_v1_local_s3cr3t"})
    # --8<-- [end:command]
    deadline = time.monotonic() + 60
    while not ready.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit("the local server did not start")
        time.sleep(0.1)
    return server, ready.read_text().strip()


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)  # a clean shutdown; every load is already on disk
    assert server.wait(30) == 0


def count_errors(url: str) -> int:
    with LogfireClient.from_token("pylf_v1_local_s3cr3t", base_url=url) as client:
        rows = client.query_json_rows(
            "SELECT count(*) AS n FROM records WHERE level >= 17 AND service_name = 'billing'",
            min_timestamp=start,
            max_timestamp=start + timedelta(days=1),
        )["rows"]
    return rows[0]["n"]


server, url = serve("--records", str(export.parent))  # a file, a folder or a glob of Parquet files
try:
    print(f"{count_errors(url)} errors loaded from {export}")
    assert count_errors(url) == 15
    with LogfireClient.from_token("pylf_v1_local_s3cr3t", base_url=url) as client:
        filled = client.query_json_rows(
            "SELECT kind, span_name, day, project_id, end_timestamp = start_timestamp AS instant, "
            "length(trace_id) AS trace_id_length FROM records",
            min_timestamp=start,
            limit=1,
        )["rows"][0]
    print(filled)  # columns the Parquet file did not have, filled in as the server loaded it
    assert filled == {
        "kind": "log",
        "span_name": "invoice 0 sent",
        "day": "2026-11-27",
        "project_id": "local",
        "instant": True,
        "trace_id_length": 32,
    }
finally:
    stop(server)

server, url = serve()  # no --records: the rows come from --data-dir
try:
    assert count_errors(url) == 15, "the data directory keeps the loaded rows"
finally:
    stop(server)
