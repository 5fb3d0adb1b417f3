"""Exporter edge cases: an empty window still writes the query's columns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.core.exporter import ExportPlan, export_window
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

END = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_empty_window_exports_zero_rows_with_the_columns(tmp_path):
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=1_000, seed=2, end=END)
    empty = TimeWindow(END + timedelta(days=5), END + timedelta(days=6))
    plan = ExportPlan("SELECT span_name, level, start_timestamp FROM records", empty)
    with (
        run_local_server(engine) as server,
        LogfireClient.from_token(server.token, base_url=server.url) as client,
    ):
        summary = export_window(client, plan, tmp_path / "empty.parquet")
    table = pq.read_table(tmp_path / "empty.parquet")
    assert summary.rows == 0 and summary.requests == 2  # the count query and one empty piece
    assert summary.as_xcom()["min_timestamp"] == empty.start.isoformat()
    assert table.num_rows == 0
    assert table.schema.names == ["span_name", "level", "start_timestamp"]
    assert str(table.schema.field("start_timestamp").type) == "timestamp[us, tz=UTC]"
