"""LogfireToFileTransfer exports a crowded day exactly: no row lost or doubled, few requests.

The day is built by hand so that every hard case is known: 100,000 evenly spread rows, a row on
every whole minute (the edges of the count buckets, where most pieces are cut), rows on the
window's first and last microsecond, rows just outside it (at the end instant and one microsecond
before the start: excluded), and 9,999 rows sharing one timestamp (one short of a full page).
Another day holds 10,000 rows at one instant, which no time split can page through: that export
must fail clearly and leave nothing behind.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.core.paging import ExportPlan, WindowExporter
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.local.testing import LocalServer
from tests.support.dag_tasks import (
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
    server_count,
)

MICROS = 1_000_000
SPREAD_ROWS = 100_000
CROWD_ROWS = 9_999
CROWDED_INSTANT = DAY_START + timedelta(hours=13, minutes=17, seconds=23, microseconds=456_789)
FULL_PAGE_DAY = datetime(2026, 11, 20, tzinfo=UTC)
FULL_PAGE_INSTANT = FULL_PAGE_DAY + timedelta(hours=9, microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _at(micros: np.ndarray | list[int]) -> pa.Array:
    return pa.array(np.asarray(micros, dtype=np.int64))


@pytest.fixture(scope="module")
def expected_ids(server: LocalServer) -> set[str]:
    """Load the crowded day (and the full-page day); return the ids the export must contain."""
    start, end = _micros(DAY_START), _micros(DAY_END)
    spread = start + np.arange(SPREAD_ROWS, dtype=np.int64) * ((end - start) // SPREAD_ROWS)
    minutes = start + np.arange(24 * 60, dtype=np.int64) * 60 * MICROS
    edges = [start, end - 1, end, start - 1]  # in, in, out (next day), out (previous day)
    parts = {
        "spread": spread,
        "minute": minutes,
        "edge": np.asarray(edges),
        "crowd": np.full(CROWD_ROWS, _micros(CROWDED_INSTANT)),
    }
    expected: set[str] = set()
    for prefix, times in parts.items():
        table = records_table(_at(times), id_prefix=prefix, service_name=["exact"] * len(times))
        server.engine.insert_arrow("records", table)
        inside = (times >= start) & (times < end)
        expected.update(np.asarray(table.column("span_id").to_pylist())[inside].tolist())

    full_page = records_table(
        _at(np.full(10_000, _micros(FULL_PAGE_INSTANT))), id_prefix="fullpage", service_name=["full"] * 10_000
    )
    server.engine.insert_arrow("records", full_page)
    around = _micros(FULL_PAGE_DAY) + np.arange(500, dtype=np.int64) * 120 * MICROS
    server.engine.insert_arrow("records", records_table(_at(around), id_prefix="around"))
    return expected


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exact")


@pytest.fixture(scope="module")
def report(
    server: LocalServer, expected_ids: set[str], out_dir: Path, run_module_dags: RunDags
) -> DagRunReport:
    (run,) = run_module_dags(
        [DAGS_DIR / "transfer_exactness_dags.py"],
        [{"dag_id": "lf_exact_daily", "logical_date": LOGICAL_DATE.isoformat()}],
        env={**connection_env("logfire_default", server.url), "LOGFIRE_TEST_OUT": str(out_dir)},
    )
    return run


def test_the_data_puts_rows_on_the_piece_edges(client: LogfireClient, expected_ids: set[str]) -> None:
    """The exporter's own plan for this day cuts pieces where rows sit, and one piece overflows."""
    pieces = WindowExporter(
        client, ExportPlan("SELECT * FROM records", TimeWindow(DAY_START, DAY_END))
    ).plan_pieces()
    cuts = [piece.start for piece in pieces[1:]]
    assert len(cuts) >= 10
    on_a_minute = [cut for cut in cuts if cut.second == 0 and cut.microsecond == 0]
    assert len(on_a_minute) >= len(cuts) - 2  # a minute row sits on each of these cuts
    # The crowd lands in a piece that holds more than a page: the export must page past the cap.
    (crowded,) = [piece for piece in pieces if piece.contains(CROWDED_INSTANT)]
    assert server_count(client, crowded.start, crowded.end) > 10_000


def test_every_row_of_the_day_exactly_once(
    report: DagRunReport, out_dir: Path, client: LogfireClient, expected_ids: set[str]
) -> None:
    assert report.tasks["export_day"] == "success", report.task_log("export_day")[-4000:]
    count = server_count(client, DAY_START, DAY_END, where="service_name = 'exact'")
    assert count == len(expected_ids) == SPREAD_ROWS + 24 * 60 + 2 + CROWD_ROWS
    table = pq.read_table(
        out_dir / "day" / "2026-11-27" / "records.parquet", columns=["span_id", "start_timestamp"]
    )
    ids = table.column("span_id").to_pylist()
    assert len(ids) == count
    doubled = len(ids) - len(set(ids))
    assert doubled == 0, f"{doubled} row(s) exported twice"
    assert set(ids) == expected_ids, (
        f"lost {len(expected_ids - set(ids))}, unexpected {len(set(ids) - expected_ids)}"
    )
    times = table.column("start_timestamp").to_pylist()
    assert times == sorted(times)  # written in time order
    assert times.count(CROWDED_INSTANT) == CROWD_ROWS
    assert max(times) == DAY_END - timedelta(microseconds=1) and min(times) == DAY_START


def test_the_export_stays_within_its_request_budget(report: DagRunReport, expected_ids: set[str]) -> None:
    summary = report.xcom["export_day"]
    assert summary["rows"] == len(expected_ids)
    budget = 1.25 * math.ceil(summary["rows"] / 10_000) + 2
    assert summary["requests"] <= budget, f"{summary['requests']} requests for {summary['rows']:,} rows"
    # The exporter asks at least once per 10,000 rows, plus the count query.
    assert summary["requests"] >= math.ceil(summary["rows"] / 10_000) + 1


def test_a_full_page_at_one_instant_fails_clearly_and_leaves_nothing(
    report: DagRunReport, out_dir: Path
) -> None:
    assert report.tasks["export_crowded"] == "failed"
    assert "export_crowded" not in report.xcom
    log = report.task_log("export_crowded")
    assert "CrowdedInstantError" in log
    assert "share the single timestamp 2026-11-20T09:00:00.000001+00:00" in log
    assert "Narrow the SQL" in log
    destination = out_dir / "crowded"
    leftovers = sorted(p.name for p in destination.iterdir()) if destination.exists() else []
    assert leftovers == []  # neither the file nor a temporary sibling


class _OrderLosingClient:
    """A real client whose pages come back in another order, as from a server that drops ORDER BY.

    The rewritten SQL makes the server pick an arbitrary full page (by span id, not by time):
    trusting such a page as "every row before its last instant" would lose rows.
    """

    def __init__(self, client: LogfireClient) -> None:
        self._client = client

    def query_json_rows(self, sql: str, **query: Any) -> Any:
        return self._client.query_json_rows(sql, **query)

    def query_arrow(self, sql: str, **query: Any) -> pa.Table:
        assert 'ORDER BY "start_timestamp"' in sql
        return self._client.query_arrow(
            sql.replace('ORDER BY "start_timestamp"', 'ORDER BY "span_id" DESC'), **query
        )


def test_a_page_out_of_time_order_is_halved_not_trusted(
    client: LogfireClient, expected_ids: set[str]
) -> None:
    window = TimeWindow(CROWDED_INSTANT - timedelta(minutes=10), CROWDED_INSTANT + timedelta(minutes=5))
    plan = ExportPlan("SELECT span_id, start_timestamp FROM records WHERE service_name = 'exact'", window)
    exporter = WindowExporter(_OrderLosingClient(client), plan)  # type: ignore[arg-type]
    batches: list[pa.RecordBatch] = []
    stats = exporter.run(batches.append)
    ids = pa.Table.from_batches(batches).column("span_id").to_pylist()
    expected = server_count(client, window.start, window.end, where="service_name = 'exact'")
    assert len(ids) == len(set(ids)) == expected > CROWD_ROWS
    assert stats.splits > 0  # the full pages were split in time, not resumed after their last row


def test_no_token_anywhere(report: DagRunReport) -> None:
    assert_secrets_absent([report], SECRET_TOKEN)
