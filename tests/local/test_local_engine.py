from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local.engine import (
    _READ_ONLY,
    InvalidParameterError,
    LoadError,
    LocalEngine,
    LocalQueryError,
    QueryTimeoutError,
)

from .conftest import IN_WINDOW, T0, T1, metrics_table, records_table, seed


@pytest.fixture
def engine() -> LocalEngine:
    with LocalEngine() as fresh:
        yield seed(fresh)


def rows(engine: LocalEngine, sql: str, **options: object) -> list[dict]:
    with engine.query(sql, **options) as result:
        return pa.Table.from_batches(list(result), schema=result.schema).to_pylist()


def messages(engine: LocalEngine, **options: object) -> list[str]:
    found = rows(engine, "SELECT message FROM records ORDER BY start_timestamp", **options)
    return [r["message"] for r in found]


# -- no files, no network ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/*.parquet')",
        "SELECT * FROM read_json('/etc/hosts')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_csv('https://example.com/data.csv')",
    ],
)
def test_sql_cannot_read_files_or_urls(engine: LocalEngine, sql: str) -> None:
    with pytest.raises(LocalQueryError, match=r"table function '\w+' not found"):
        engine.query(sql)


@pytest.mark.parametrize("path", ["/etc/passwd", "https://example.com/data.csv", "~/secrets.parquet"])
def test_a_bare_file_path_is_not_read_as_a_table(engine: LocalEngine, path: str) -> None:
    with pytest.raises(LocalQueryError, match="is not a table: the query API does not read files or URLs"):
        engine.query(f"SELECT * FROM '{path}'")


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '{tmp}/out.csv'",
        "COPY records TO '{tmp}/out.parquet' STORED AS PARQUET",
        "CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE TABLE copy AS SELECT * FROM records",
        "CREATE VIEW v AS SELECT 1",
        "INSERT INTO records (message) VALUES ('x')",
        "DROP TABLE records",
        "SET datafusion.execution.time_zone = 'Asia/Tokyo'",
        "SELECT * FROM '/etc/passwd'",
    ],
)
def test_the_session_itself_refuses_writes_and_files_even_without_the_guard(
    engine: LocalEngine, tmp_path: Path, sql: str
) -> None:
    # The guard refuses these first; this proves the DataFusion session alone does too.
    ctx = engine._session(None, None, None, None)
    with pytest.raises(Exception, match=r"not supported|not found|not implemented"):
        ctx.sql_with_options(sql.format(tmp=tmp_path), _READ_ONLY).collect()
    assert list(tmp_path.iterdir()) == []
    assert engine.count("records") == len(records_table())


def test_refused_statements_never_reach_the_database(engine: LocalEngine) -> None:
    with pytest.raises(LocalQueryError, match="got DROP"):
        engine.query("DROP TABLE records")
    with pytest.raises(LocalQueryError, match="got DELETE"):
        engine.query("DELETE FROM records")
    assert engine.count("records") == len(records_table())


# -- windows, environments, limits ---------------------------------------------------------


def test_the_window_is_half_open(engine: LocalEngine) -> None:
    assert messages(engine, min_timestamp=T0, max_timestamp=T1) == IN_WINDOW
    assert messages(engine, min_timestamp=T1) == ["at-max"]
    assert messages(engine, max_timestamp=T0) == ["before-window"]


def test_a_query_session_holds_only_the_window(engine: LocalEngine) -> None:
    """No name reaches stored rows outside the window: the session has nothing else to read."""
    ctx = engine._session(T0, T1, None, None)
    schema = ctx.catalog().schema()
    assert set(schema.names()) == {"records", "records_all", "metrics"}
    for name in ("records", "records_all"):
        messages_seen = ctx.sql(f"SELECT message FROM {name} ORDER BY start_timestamp").to_pydict()
        assert messages_seen["message"] == IN_WINDOW
    assert set(ctx.catalog_names()) == {"datafusion"}


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT message FROM datafusion.public.records",
        "SELECT message FROM records_all",
        "SELECT message FROM (SELECT * FROM records) AS r",
    ],
)
def test_no_spelling_of_a_table_reads_past_the_window(engine: LocalEngine, sql: str) -> None:
    found = rows(engine, sql + " ORDER BY 1", min_timestamp=T0, max_timestamp=T1)
    assert sorted(r["message"] for r in found) == sorted(IN_WINDOW)


def test_naive_bounds_are_utc(engine: LocalEngine) -> None:
    naive = T0.replace(tzinfo=None)
    assert messages(engine, min_timestamp=naive, max_timestamp=T1) == IN_WINDOW


def test_metrics_are_windowed_on_recorded_timestamp(engine: LocalEngine) -> None:
    found = rows(engine, "SELECT scalar_value FROM metrics ORDER BY 1", min_timestamp=T0, max_timestamp=T1)
    assert [r["scalar_value"] for r in found] == [2.0, 3.0]


def test_records_all_is_records(engine: LocalEngine) -> None:
    found = rows(
        engine, "SELECT message FROM records_all ORDER BY start_timestamp", min_timestamp=T0, max_timestamp=T1
    )
    assert [r["message"] for r in found] == IN_WINDOW


@pytest.mark.parametrize(
    ("environments", "expected"),
    [
        (["prod"], ["before-window", "at-min", "at-max"]),
        ([""], ["no-environment", "empty-environment"]),
        (["dev", ""], ["middle", "no-environment", "empty-environment"]),
        (["it's"], []),
        ([], ["before-window", "at-min", "middle", "no-environment", "empty-environment", "at-max"]),
    ],
)
def test_environment_filter(engine: LocalEngine, environments: list[str], expected: list[str]) -> None:
    assert messages(engine, environments=environments) == expected


def test_limit_caps_rows_even_over_a_larger_sql_limit(engine: LocalEngine) -> None:
    assert len(rows(engine, "SELECT * FROM range(20000) LIMIT 15000", limit=10_000)) == 10_000
    assert len(rows(engine, "SELECT * FROM range(20000) LIMIT 7", limit=10_000)) == 7


def test_time_zone_applies_to_one_query_only(engine: LocalEngine) -> None:
    sql = "SELECT to_char(CAST('2026-11-27T00:00:00Z' AS TIMESTAMPTZ), '%H') AS hour"
    assert rows(engine, sql, timezone="Asia/Tokyo") == [{"hour": "09"}]
    assert rows(engine, sql) == [{"hour": "00"}]
    with pytest.raises(InvalidParameterError) as bad:
        engine.query(sql, timezone="Mars/Olympus_Mons")
    assert bad.value.field == "timezone"


def test_results_leave_with_logfire_arrow_types(engine: LocalEngine) -> None:
    with engine.query(
        "SELECT start_timestamp, tags, attributes, level, day FROM records", timezone="Europe/Paris"
    ) as result:
        schema = result.schema
        list(result)
    assert schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert schema.field("tags").type == pa.list_(pa.field("item", pa.string()))
    assert schema.field("attributes").type == pa.string()  # JSON is text
    assert schema.field("attributes").metadata is None
    assert schema.field("level").type == pa.int32()
    assert schema.field("day").type == pa.date32()


def test_explain_returns_datafusions_plan(engine: LocalEngine) -> None:
    with engine.query("SELECT message FROM records WHERE level > 10", explain=True) as result:
        assert result.plan is not None
        assert "TableScan: records" in result.plan and "records.level > Int32(10)" in result.plan
        assert sorted(r["message"] for r in pa.Table.from_batches(list(result)).to_pylist()) == [
            "middle",
            "no-environment",
        ]


# -- time budget and concurrency -----------------------------------------------------------


def test_a_query_over_its_time_budget_is_cancelled() -> None:
    with LocalEngine(query_timeout=0.3) as engine:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match=r"0\.3 s time limit"):
            engine.query("SELECT count(*) FROM range(1000000000000)")
        assert time.monotonic() - started < 5


def test_closing_a_result_mid_stream_releases_it(engine: LocalEngine) -> None:
    result = engine.query("SELECT * FROM range(10000)", limit=10_000)
    first = next(iter(result))
    assert first.num_rows > 0
    result.close()
    result.close()  # idempotent
    with pytest.raises(LocalQueryError, match="cancelled"):
        list(result)


def test_concurrent_queries_see_their_own_windows(engine: LocalEngine) -> None:
    outcomes: dict[int, list[str]] = {}
    windows = {i: (T0 + timedelta(hours=i), T1) for i in range(8)}

    def run(i: int) -> None:
        low, high = windows[i]
        outcomes[i] = messages(
            engine, min_timestamp=low, max_timestamp=high, timezone="Asia/Tokyo" if i % 2 else None
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in windows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes[0] == IN_WINDOW
    assert outcomes[1] == IN_WINDOW[1:]
    assert outcomes[2] == IN_WINDOW[2:]
    assert outcomes[3] == IN_WINDOW[3:]
    assert all(outcomes[i] == [] for i in range(4, 8))


def test_a_full_page_from_a_million_rows_holds_only_window_rows() -> None:
    """A 10,000-row page out of a large table: full, and every row inside the window.

    How fast that is belongs to `make bench` (the server-load case), not here.
    """
    count = 1_000_000
    start = int(T0.timestamp() * 1_000_000)
    offsets = np.random.default_rng(7).integers(0, 10 * 86_400 * 1_000_000, count)
    data = pa.table(
        {
            "start_timestamp": pa.array(start + offsets, pa.timestamp("us", "UTC")),
            "message": pa.array(np.char.add("message ", (offsets % 1000).astype(str))),
            "service_name": pa.array(np.where(offsets % 2 == 0, "shop", "mailer")),
        }
    )
    with LocalEngine() as engine:
        assert engine.insert_arrow("records", data) == count
        window = {"min_timestamp": T0 + timedelta(days=4), "max_timestamp": T0 + timedelta(days=5)}
        with engine.query("SELECT start_timestamp FROM records", limit=10_000, **window) as result:
            stamps = [stamp for batch in result for stamp in batch.column(0).to_pylist()]
    assert len(stamps) == 10_000
    assert all(window["min_timestamp"] <= stamp < window["max_timestamp"] for stamp in stamps)


# -- loading -------------------------------------------------------------------------------


def test_a_column_subset_gets_documented_defaults() -> None:
    started = datetime(2026, 11, 27, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    with LocalEngine() as engine:
        engine.insert_arrow("records", pa.table({"start_timestamp": [started], "message": ["hello"]}))
        (row,) = rows(engine, "SELECT * FROM records")
    assert row["end_timestamp"] == started
    assert row["day"].isoformat() == "2026-11-27"
    assert row["created_at"] >= before - timedelta(seconds=1)
    assert row["project_id"] == "local"
    assert re.fullmatch(r"[0-9a-f]{32}", row["trace_id"])
    assert re.fullmatch(r"[0-9a-f]{16}", row["span_id"])
    assert (row["kind"], row["level"], row["span_name"], row["service_name"]) == (
        "log",
        9,
        "hello",
        "unknown_service",
    )
    assert row["attributes"] is None and row["tags"] == [] and row["duration"] is None


def test_loaded_values_are_cast_to_the_column_types() -> None:
    with LocalEngine() as engine:
        data = pa.table(
            {
                "start_timestamp": pa.array(["2026-11-27T10:00:00"]),  # text, naive = UTC
                "end_timestamp": pa.array(["2026-11-27T10:00:01Z"]),
                "level": pa.array([17], pa.int64()),
                "span_name": ["GET /"],
            }
        )
        engine.insert_arrow("records", data)
        (row,) = rows(engine, "SELECT start_timestamp, kind, level, message FROM records")
    assert row == {
        "start_timestamp": datetime(2026, 11, 27, 10, tzinfo=timezone.utc),
        "kind": "span",
        "level": 17,
        "message": "GET /",
    }


def test_unknown_columns_are_named_in_the_error() -> None:
    with LocalEngine() as engine, pytest.raises(LoadError, match="Unknown column.*: colour, size"):
        engine.insert_arrow("records", pa.table({"start_timestamp": [T0], "colour": ["red"], "size": [1]}))


@pytest.mark.parametrize(
    ("table", "data", "named"),
    [
        ("records", {"message": ["no time"]}, "start_timestamp"),
        ("metrics", {"scalar_value": [1.0]}, "recorded_timestamp"),
        ("metrics", {"recorded_timestamp": [T0]}, "metric_name"),
    ],
)
def test_missing_required_columns_are_named(table: str, data: dict, named: str) -> None:
    with LocalEngine() as engine, pytest.raises(LoadError, match=named):
        engine.insert_arrow(table, pa.table(data))


def test_unknown_tables_are_refused() -> None:
    with LocalEngine() as engine, pytest.raises(LoadError, match="Unknown table 'spans'"):
        engine.insert_arrow("spans", records_table())


def test_loads_out_of_time_order_leave_the_table_sorted() -> None:
    with LocalEngine() as engine:
        later = records_table().slice(3)
        earlier = records_table().slice(0, 3)
        reader = pa.RecordBatchReader.from_batches(later.schema, later.to_batches())
        assert engine.insert_arrow("records", reader) == 3
        assert engine.insert_arrow("records", earlier) == 3
        # Without ORDER BY, rows come back in their stored order.
        physical = [r["start_timestamp"] for r in rows(engine, "SELECT start_timestamp FROM records")]
        assert physical == sorted(physical) and len(physical) == 6
        assert engine.count("records") == 6


def test_parquet_files_with_different_column_subsets(tmp_path: Path) -> None:
    pq.write_table(records_table().select(["start_timestamp", "message"]).slice(0, 2), tmp_path / "a.parquet")
    pq.write_table(
        records_table().select(["start_timestamp", "level", "tags"]).slice(2), tmp_path / "b.parquet"
    )
    pq.write_table(
        metrics_table().select(["recorded_timestamp", "metric_name"]), tmp_path / "metrics.parquet"
    )
    with LocalEngine() as engine:
        assert engine.load_parquet("records", tmp_path / "[ab].parquet") == len(records_table())
        assert engine.load_parquet("metrics", tmp_path / "metrics.parquet") == len(metrics_table())
        found = rows(engine, "SELECT message, level, tags FROM records ORDER BY start_timestamp")
    assert found[0] == {"message": "before-window", "level": 9, "tags": []}
    assert found[2] == {"message": "", "level": 17, "tags": ["seed", "middle"]}


def test_parquet_patterns_that_match_nothing_fail_loudly(tmp_path: Path) -> None:
    with LocalEngine() as engine, pytest.raises(FileNotFoundError, match="nothing-here"):
        engine.load_parquet("records", tmp_path / "nothing-here*.parquet")


def test_a_data_directory_keeps_rows_across_restarts(tmp_path: Path) -> None:
    with LocalEngine.in_directory(tmp_path / "data") as engine:
        seed(engine)
    with LocalEngine.in_directory(tmp_path / "data") as reopened:
        assert reopened.count("records") == len(records_table())
        assert messages(reopened, min_timestamp=T0, max_timestamp=T1) == IN_WINDOW
        with pytest.raises(LocalQueryError, match="table function 'read_text' not found"):
            reopened.query("SELECT * FROM read_text('/etc/passwd')")
    assert sorted(p.parent.name for p in (tmp_path / "data").rglob("*.parquet")) == ["metrics", "records"]


def test_clear_and_count() -> None:
    with LocalEngine() as engine:
        seed(engine)
        assert (engine.count("records"), engine.count("metrics")) == (6, 4)
        engine.clear()
        assert (engine.count("records"), engine.count("metrics")) == (0, 0)


def test_demo_data_loads_through_the_engine() -> None:
    pytest.importorskip("airflow_provider_logfire.local.demo")
    end = datetime(2026, 11, 27, tzinfo=timezone.utc)
    with LocalEngine() as engine:
        summary = engine.load_demo(days=1, rows_per_day=300, seed=3, end=end)
        assert engine.count("records") == summary.records > 0
        physical = [
            r["start_timestamp"] for r in rows(engine, "SELECT start_timestamp FROM records", limit=10_000)
        ]
        assert physical == sorted(physical)


def test_a_page_without_order_by_is_the_same_on_every_request() -> None:
    """Stored rows are scanned as one partition, in time order: a LIMIT page never changes."""
    end = datetime(2026, 11, 27, tzinfo=timezone.utc)
    with LocalEngine() as engine:
        engine.load_demo(days=2, rows_per_day=12_000, seed=7, end=end)
        pages = set()
        for _ in range(12):
            found = rows(engine, "SELECT span_id, start_timestamp FROM records", limit=2000)
            pages.add(tuple(r["span_id"] for r in found))
            assert [r["start_timestamp"] for r in found] == sorted(r["start_timestamp"] for r in found)
    assert len(pages) == 1
