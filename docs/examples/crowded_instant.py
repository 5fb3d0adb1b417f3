"""More than a page of rows at one instant: the export stops with CrowdedInstantError, then the fix.

Self-contained: it starts its own local server (needs the `local` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.core.paging import ExportPlan, WindowExporter
from airflow_provider_logfire.core.planning import CrowdedInstantError
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

instant = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
engine = LocalEngine()
# 12,000 log lines written in the same microsecond, e.g. by a batch job that stamps them all alike.
engine.insert_arrow(
    "records",
    pa.table(
        {
            "start_timestamp": pa.array([instant] * 12_000),
            "message": [f"item {i} processed" for i in range(12_000)],
        }
    ),
)
window = TimeWindow(instant, instant + timedelta(minutes=1))

with (
    run_local_server(engine) as server,
    LogfireClient.from_token(server.token, base_url=server.url) as client,
):
    # --8<-- [start:crowded]
    plan = ExportPlan(sql="SELECT start_timestamp, message FROM records", window=window)
    try:
        WindowExporter(client, plan).run(lambda batch: None)
    except CrowdedInstantError as exc:
        print(exc.instant)  # 2026-11-27 12:00:00+00:00
        print(exc)  # 10,000 or more rows share the single timestamp ...: ... Narrow the SQL: ...
        # --8<-- [end:crowded]
        crowded_at = exc.instant
    assert crowded_at == instant

    # --8<-- [start:fix]
    # Aggregate what shares an instant: one row per (instant, message pattern) instead of 12,000.
    summary = """
        SELECT start_timestamp, regexp_replace(message, '[0-9]+', 'N') AS message, count(*) AS n
        FROM records
        GROUP BY 1, 2
    """
    rows = []
    WindowExporter(client, ExportPlan(sql=summary, window=window)).run(rows.append)
    # [{'start_timestamp': ..., 'message': 'item N processed', 'n': 12000}]
    print(pa.Table.from_batches(rows).to_pylist())
    # --8<-- [end:fix]
    assert pa.Table.from_batches(rows).to_pylist()[0]["n"] == 12_000
engine.close()
