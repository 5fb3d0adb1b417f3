"""`core.window_sql`: a query restricted in SQL to its half-open window, run on the local engine.

The engine's data sits on the window's edges (tests/local/conftest.py): a row a microsecond
before T0, one exactly at T0, one exactly at T1. The API bounds sent here are deliberately wider
than the window on both sides, as a server with inclusive bounds or a padded request would
have them, so only the SQL can keep the rows at T1 (and before T0) out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyarrow as pa
import pytest

from airflow_provider_logfire.core.planning import BOUND_PADDING
from airflow_provider_logfire.core.window_sql import (
    exact_window_request,
    restrict_to_window,
    tables_read,
    unrestricted_reason,
)
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.local.engine import LocalEngine
from tests.local.conftest import IN_WINDOW, METRICS, T0, T1, seed

WINDOW = TimeWindow(T0, T1)
#: Wider than the window on both sides: every seeded row passes the API bounds.
WIDE = {"min_timestamp": T0 - timedelta(days=1), "max_timestamp": T1 + timedelta(days=1)}
METRICS_IN_WINDOW = sum(1 for recorded, _, _ in METRICS if T0 <= recorded < T1)


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    with LocalEngine() as local:
        yield seed(local)


def rows(engine: LocalEngine, sql: str) -> list[dict]:
    result = engine.query(sql, limit=10_000, **WIDE)
    return pa.Table.from_batches(list(result), schema=result.schema).to_pylist()


def test_the_api_bounds_alone_let_the_edge_rows_in(engine: LocalEngine) -> None:
    # The control: without the restriction these bounds read more than the window.
    assert rows(engine, "SELECT count(*) AS n FROM records") == [{"n": len(IN_WINDOW) + 2}]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT message FROM records ORDER BY start_timestamp", [{"message": m} for m in IN_WINDOW]),
        ("SELECT count(*) AS n FROM records;  -- trailing comment", [{"n": len(IN_WINDOW)}]),
        ("-- leading comment\nSELECT count(*) AS n FROM RECORDS", [{"n": len(IN_WINDOW)}]),
        ("SELECT count(*) AS n FROM \"records\" AS r WHERE r.level >= 'info'", [{"n": len(IN_WINDOW)}]),
        ("SELECT count(*) AS n FROM metrics", [{"n": METRICS_IN_WINDOW}]),
        ("SELECT count(*) AS n FROM records_all", [{"n": len(IN_WINDOW)}]),
        (
            "WITH e AS (SELECT message FROM records WHERE level >= 17), m AS (SELECT * FROM metrics) "
            "SELECT (SELECT count(*) FROM e) AS errors, (SELECT count(*) FROM m) AS metrics",
            [{"errors": 1, "metrics": METRICS_IN_WINDOW}],
        ),
        (
            "(SELECT message AS name FROM records) UNION ALL (SELECT metric_name FROM metrics) ORDER BY 1",
            sorted(
                [{"name": m} for m in IN_WINDOW] + [{"name": "requests"}] * METRICS_IN_WINDOW,
                key=lambda r: r["name"],
            ),
        ),
        (
            "SELECT time_bucket('12 hours', start_timestamp) AS b, count(*) AS n FROM records GROUP BY 1",
            [{"b": pa.scalar(T0, pa.timestamp("us", "UTC")).as_py(), "n": len(IN_WINDOW)}],
        ),
    ],
)
def test_restricted_queries_read_exactly_the_window(engine: LocalEngine, sql: str, expected: list) -> None:
    restricted = restrict_to_window(sql, WINDOW)
    assert restricted.startswith(("WITH", "-- leading"))
    assert rows(engine, restricted) == expected


def test_only_the_tables_the_query_names_get_a_cte() -> None:
    sql = restrict_to_window("SELECT count(*) FROM records WHERE message = 'metrics' -- metrics", WINDOW)
    assert '"records" AS (' in sql and '"metrics"' not in sql
    assert tables_read("SELECT 1") == [] and restrict_to_window("SELECT 1;", WINDOW) == "SELECT 1"
    assert tables_read('SELECT * FROM "metrics" JOIN records_all USING (service_name)') == [
        "records_all",
        "metrics",
    ]


def test_the_ctes_hold_the_exact_half_open_edges() -> None:
    sql = restrict_to_window("SELECT * FROM metrics", WINDOW)
    assert (
        "\"recorded_timestamp\" >= '2026-11-27T00:00:00.000000+00:00' "
        "AND \"recorded_timestamp\" < '2026-11-28T00:00:00.000000+00:00'"
    ) in sql


def test_a_users_with_list_gets_the_ctes_first() -> None:
    sql = restrict_to_window("with x as (select * from records) select * from x", WINDOW)
    assert sql.startswith('WITH "records" AS (SELECT * FROM "records" WHERE')
    assert sql.endswith("),\nx as (select * from records) select * from x")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
            "SELECT i, (SELECT count(*) FROM records) AS c FROM n ORDER BY i",
            "WITH RECURSIVE",
        ),
        ("EXPLAIN SELECT count(*) FROM records", "EXPLAIN statement"),
        ("DESCRIBE records", "DESCRIBE statement"),
    ],
)
def test_what_cannot_take_the_prefix_is_sent_as_written(engine: LocalEngine, sql: str, reason: str) -> None:
    assert reason in unrestricted_reason(sql)
    assert restrict_to_window(sql, WINDOW) == sql
    request = exact_window_request(sql, WINDOW)
    # Not padded: the API bounds are all that restricts the query, so they are the window's own.
    assert (request.sql, request.min_timestamp, request.max_timestamp) == (sql, T0, T1)
    if reason == "WITH RECURSIVE":  # the local server answers SELECTs only
        assert rows(engine, sql) == [{"i": i, "c": len(IN_WINDOW) + 2} for i in (1, 2, 3)]


def test_exact_window_request_pads_the_api_bounds() -> None:
    request = exact_window_request("SELECT count(*) FROM records", WINDOW)
    assert request.min_timestamp == T0 - BOUND_PADDING and request.max_timestamp == T1 + BOUND_PADDING
    assert request.unrestricted is None and request.sql.startswith("WITH")


def test_empty_sql_is_refused() -> None:
    with pytest.raises(LogfireConfigError, match="empty"):
        restrict_to_window("  ; -- nothing", WINDOW)
