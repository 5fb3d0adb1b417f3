"""Export a whole day exactly, past the 10,000-row page cap, without Airflow.

What LogfireToFileTransfer does inside a task: plan pieces from one count query, fetch them
concurrently, stream the batches into a file that appears only when complete.

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
from airflow_provider_logfire.core.exporter import ExportPlan, WindowExporter
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.writers import open_export

today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
window = TimeWindow(today - timedelta(days=1), today)  # [start, end): half-open, in UTC
destination = Path(tempfile.mkdtemp()) / f"date={window.start:%Y-%m-%d}" / "records.parquet"

plan = ExportPlan(sql="SELECT * FROM records", window=window, max_concurrency=4)
with (
    LogfireClient.from_token(
        os.environ["LOGFIRE_READ_TOKEN"], base_url=os.environ.get("LOGFIRE_BASE_URL")
    ) as client,
    open_export(destination, format="parquet", compression="zstd") as writer,
):
    stats = WindowExporter(client, plan).run(writer.write_batch)

print(writer.result)  # ExportResult(path=..., format='parquet', compression='zstd', rows=..., bytes=...)
print(f"{stats.pieces_planned} pieces, {stats.requests} requests, {stats.splits} re-splits")
# --8<-- [end:export]

with LogfireClient.from_token(
    os.environ["LOGFIRE_READ_TOKEN"], base_url=os.environ.get("LOGFIRE_BASE_URL")
) as client:
    expected = client.query_json_rows(
        "SELECT count(*) AS n FROM records", min_timestamp=window.start, max_timestamp=window.end
    )["rows"][0]["n"]
assert expected > 10_000, "this example is meant to need several pieces"
assert writer.result.rows == expected == pq.read_metadata(destination).num_rows
assert stats.pieces_planned > 1
assert not [p for p in destination.parent.iterdir() if p.name.startswith(".")], "no temporary file is left"
