"""Export a whole day exactly, past the 10,000-row page cap, without Airflow.

What LogfireToFileTransfer does inside a task, in one call: `export_window` plans pieces from one
count query, fetches them concurrently and streams the batches into a file that appears only when
complete.

    export LOGFIRE_READ_TOKEN=...  [LOGFIRE_BASE_URL=...]
    python docs/examples/export_without_airflow.py
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq

# --8<-- [start:export]
from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.core.exporter import ExportPlan, export_window
from airflow_provider_logfire.core.windows import TimeWindow

today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
window = TimeWindow(today - timedelta(days=1), today)  # [start, end): half-open, in UTC
destination = Path(tempfile.mkdtemp()) / f"date={window.start:%Y-%m-%d}" / "records.parquet"

plan = ExportPlan(sql="SELECT * FROM records", window=window, max_concurrency=4)
with LogfireClient.from_token(
    os.environ["LOGFIRE_READ_TOKEN"], base_url=os.environ.get("LOGFIRE_BASE_URL")
) as client:
    summary = export_window(client, plan, destination, format="parquet", compression="zstd")

print(summary.files)  # ('/tmp/.../date=2026-11-26/records.parquet',)
print(f"{summary.rows:,} rows, {summary.bytes:,} bytes in {summary.requests} requests")
# --8<-- [end:export]

with LogfireClient.from_token(
    os.environ["LOGFIRE_READ_TOKEN"], base_url=os.environ.get("LOGFIRE_BASE_URL")
) as client:
    expected = client.query_json_rows(
        "SELECT count(*) AS n FROM records", min_timestamp=window.start, max_timestamp=window.end
    )["rows"][0]["n"]
assert expected > 10_000, "this example is meant to need several pieces"
assert summary.rows == expected == pq.read_metadata(destination).num_rows
assert summary.requests > 2, "one count query and several pieces"
assert not [p for p in destination.parent.iterdir() if p.name.startswith(".")], "no temporary file is left"
