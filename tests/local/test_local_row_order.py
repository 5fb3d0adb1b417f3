"""What the engine does because the stored rows are in time order, and that answers stay the same.

An `ORDER BY start_timestamp` the stored order already gives is left out (no sort in the plan),
but only when the rows really are one sorted run and nothing in the query can reorder them; an
aggregation whose answer cannot depend on row order may spread its scan over threads. The
Arrow IPC answer is written message by message and must be byte for byte what pyarrow's own
stream writer writes; gzip is ISA-L's and must decompress to the same bytes.
"""

from __future__ import annotations

import gzip
import io
import random
from datetime import timedelta

import httpx
import pyarrow as pa
import pytest
import sqlglot

from airflow_provider_logfire.local import responses
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.ordering import leading_rows, order_free_aggregation, without_stored_order
from airflow_provider_logfire.local.testing import run_local_server

from .conftest import T0, T1

PIECE = (
    "SELECT *\nFROM (\nSELECT * FROM records\n) AS q\n"
    f"WHERE start_timestamp >= '{T0.isoformat()}' AND start_timestamp < '{T1.isoformat()}'\n"
    "ORDER BY start_timestamp"
)


def shuffled_records(count: int, *, seed: int = 7) -> pa.Table:
    """`count` records an hour apart from T0, in a random order, with some equal times."""
    chooser = random.Random(seed)
    hours = [chooser.randrange(0, 23) for _ in range(count)]
    return pa.table(
        {
            "start_timestamp": pa.array([T0 + timedelta(hours=h) for h in hours], pa.timestamp("us", "UTC")),
            "message": pa.array([f"m{i}" for i in range(count)]),
            "attributes": pa.array([f'{{"http.route": "/r{i % 5}", "n": {i}}}' for i in range(count)]),
            "level": pa.array([9 + (i % 3) * 4 for i in range(count)], pa.int32()),
        }
    )


def answer(engine: LocalEngine, sql: str, **options: object) -> tuple[list[dict], str]:
    with engine.query(
        sql, min_timestamp=T0, max_timestamp=T1, limit=10_000, explain=True, **options
    ) as result:
        return pa.Table.from_batches(list(result), schema=result.schema).to_pylist(), result.plan or ""


def test_a_sorted_table_answers_the_export_piece_without_a_sort() -> None:
    with LocalEngine() as engine:
        engine.insert_arrow("records", shuffled_records(200))  # stored sorted: one segment
        found, plan = answer(engine, PIECE)
    times = [row["start_timestamp"] for row in found]
    assert len(found) == 200 and times == sorted(times)
    assert "Sort:" not in plan, plan


def test_segments_that_overlap_in_time_keep_the_sort() -> None:
    with LocalEngine() as engine:
        # Small appends (as OTLP ingest makes them) become segments of their own, each sorted,
        # here overlapping in time: their concatenation is not in time order.
        for part in range(3):
            engine.insert_arrow("records", shuffled_records(50, seed=part), keep_sorted=False)
        found, plan = answer(engine, PIECE)
    times = [row["start_timestamp"] for row in found]
    assert len(found) == 150 and times == sorted(times)
    assert "Sort:" in plan, plan


def test_the_answer_without_the_sort_is_the_sorted_answer() -> None:
    """The rows a sort gives, ties in the order they were loaded (the store sorts stably)."""
    table = shuffled_records(300)
    columns = "SELECT start_timestamp, message\n"
    with LocalEngine() as sorted_engine, LocalEngine() as segmented:
        sorted_engine.insert_arrow("records", table)
        segmented.insert_arrow("records", table, keep_sorted=False)
        segmented.insert_arrow("records", shuffled_records(1, seed=99), keep_sorted=False)  # overlaps
        fast, fast_plan = answer(sorted_engine, PIECE.replace("SELECT *\n", columns, 1))
        slow, slow_plan = answer(segmented, PIECE.replace("SELECT *\n", columns, 1))
    assert "Sort:" not in fast_plan and "Sort:" in slow_plan
    loaded = table.select(["start_timestamp", "message"]).to_pylist()
    assert fast == sorted(loaded, key=lambda row: row["start_timestamp"])
    assert [row["start_timestamp"] for row in slow] == sorted(row["start_timestamp"] for row in slow)
    assert len(slow) == 301


@pytest.mark.parametrize(
    ("sql", "dropped"),
    [
        (PIECE, True),
        ("SELECT * FROM records ORDER BY start_timestamp LIMIT 10", True),
        ("SELECT start_timestamp, message FROM records WHERE level > 9 ORDER BY start_timestamp", True),
        ("SELECT * FROM records ORDER BY start_timestamp DESC", False),
        ("SELECT * FROM records ORDER BY start_timestamp, message", False),
        ("SELECT message AS start_timestamp FROM records ORDER BY start_timestamp", False),
        ("SELECT * FROM (SELECT * FROM records LIMIT 5) AS q ORDER BY start_timestamp", False),
        ("SELECT * FROM records_all ORDER BY start_timestamp", False),
        ("SELECT * FROM metrics ORDER BY recorded_timestamp", False),
        (
            "SELECT r.* FROM records r JOIN records s ON r.trace_id = s.trace_id ORDER BY start_timestamp",
            False,
        ),
        (
            "SELECT * FROM records WHERE trace_id IN (SELECT trace_id FROM records) ORDER BY start_timestamp",
            False,
        ),
        ("WITH x AS (SELECT * FROM records) SELECT * FROM x ORDER BY start_timestamp", False),
        ("SELECT DISTINCT * FROM records ORDER BY start_timestamp", False),
        ("SELECT start_timestamp FROM records GROUP BY 1 ORDER BY start_timestamp", False),
        ("SELECT *, row_number() OVER () FROM records ORDER BY start_timestamp", False),
        ("SELECT * FROM records UNION ALL SELECT * FROM records ORDER BY start_timestamp", False),
    ],
)
def test_which_sorts_are_left_out(sql: str, dropped: bool) -> None:
    stripped = without_stored_order(sqlglot.parse_one(sql, read="postgres"), sql)
    assert (stripped is not None) is dropped
    if stripped is not None:
        assert "ORDER BY" not in stripped
        unordered = sqlglot.parse_one(sql, read="postgres")
        unordered.set("order", None)
        assert sqlglot.parse_one(stripped, read="postgres") == unordered


def test_the_sort_is_cut_out_of_the_text_as_written() -> None:
    """Only the clause goes: the rest reaches DataFusion character for character (sqlglot would
    rewrite `to_char`'s chrono format `%Y` into Postgres' `YYYY`, which DataFusion does not read)."""
    sql = (
        "SELECT message FROM records WHERE to_char(start_timestamp, '%Y') = '2026' "
        'ORDER BY "start_timestamp" ASC NULLS LAST LIMIT 3 -- newest last'
    )
    stripped = without_stored_order(sqlglot.parse_one(sql, read="postgres"), sql)
    assert (
        stripped
        == "SELECT message FROM records WHERE to_char(start_timestamp, '%Y') = '2026' LIMIT 3 -- newest last"
    )
    with LocalEngine() as engine:
        engine.insert_arrow("records", shuffled_records(50))
        found, plan = answer(engine, sql)
    assert "Sort:" not in plan and len(found) == 3


@pytest.mark.parametrize(
    ("sql", "parallel"),
    [
        ("SELECT attributes->>'http.route' AS route, count(*) FROM records GROUP BY 1", True),
        (
            "SELECT level, max(duration), min(message), count(DISTINCT trace_id) FROM records GROUP BY level",
            True,
        ),
        ("SELECT service_name FROM records GROUP BY 1", True),
        ("SELECT approx_distinct(trace_id), bool_or(is_exception) FROM records", True),
        ("SELECT sum(duration) FROM records", False),  # float sums depend on the order of additions
        ("SELECT avg(duration) FROM records GROUP BY level", False),
        ("SELECT array_agg(message) FROM records", False),
        ("SELECT approx_percentile_cont(duration, 0.95) FROM records", False),
        ("SELECT first_value(message) FROM records", False),
        ("SELECT * FROM records", False),
        ("SELECT count(*) FROM (SELECT * FROM records LIMIT 5) AS q", False),
        ("SELECT count(*) OVER () FROM records", False),
        ("SELECT count(*) FROM records r JOIN metrics m ON true", False),
    ],
)
def test_which_aggregations_may_spread_over_threads(sql: str, parallel: bool) -> None:
    assert order_free_aggregation(sqlglot.parse_one(sql, read="postgres")) is parallel


def test_a_spread_aggregation_counts_every_row_once() -> None:
    table = shuffled_records(20_000)
    with LocalEngine() as engine:
        engine.insert_arrow("records", table)
        found, _ = answer(
            engine, "SELECT attributes->>'http.route' AS route, count(*) AS n FROM records GROUP BY 1"
        )
    assert {row["route"]: row["n"] for row in found} == {f"/r{i}": 4_000 for i in range(5)}


@pytest.mark.parametrize(
    ("sql", "rows"),
    [
        ("SELECT * FROM records", 100),
        ("SELECT message, start_timestamp FROM records", 100),
        ("SELECT * FROM records LIMIT 7", 7),
        ("SELECT * FROM records LIMIT 700", 100),
        ("SELECT * FROM records LIMIT 5 OFFSET 2", None),
        ("SELECT * FROM records WHERE level > 9", None),
        ("SELECT * FROM records ORDER BY message", None),
        ("SELECT count(*) FROM records", None),
        ("SELECT upper(message) FROM records", None),
        ("SELECT * FROM records_all", None),
        ("SELECT * FROM (SELECT * FROM records) AS q", None),
        ("SELECT DISTINCT message FROM records", None),
    ],
)
def test_which_queries_read_only_the_first_rows(sql: str, rows: int | None) -> None:
    assert leading_rows(sqlglot.parse_one(sql, read="postgres"), 100) == rows


def test_a_page_is_the_first_rows_of_the_window_in_time_order() -> None:
    table = shuffled_records(5_000)
    loaded = sorted(
        table.select(["start_timestamp", "message"]).to_pylist(), key=lambda r: r["start_timestamp"]
    )
    with LocalEngine() as engine:
        engine.insert_arrow("records", table)
        for limit in (1, 37, 4_999, 5_000):
            with engine.query("SELECT start_timestamp, message FROM records", limit=limit) as result:
                page = pa.Table.from_batches(list(result), schema=result.schema).to_pylist()
            assert page == loaded[:limit]
        with engine.query("SELECT message FROM records LIMIT 3", min_timestamp=T0, limit=10) as result:
            assert [row["message"] for row in pa.Table.from_batches(list(result)).to_pylist()] == [
                row["message"] for row in loaded[:3]
            ]


# -- the bytes of an answer ------------------------------------------------------------------


def test_arrow_stream_is_what_pyarrows_stream_writer_writes() -> None:
    table = pa.table({"n": [1, None, 3], "s": ["x", None, "zz"], "l": [[1], [], None]})
    batches = [batch.slice(1) for batch in table.to_batches(max_chunksize=2)]  # sliced, as windows are
    expected = io.BytesIO()
    with pa.ipc.new_stream(expected, table.schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    written = b"".join(bytes(chunk) for chunk in responses.arrow_stream(table.schema, batches))
    assert written == expected.getvalue()
    assert pa.ipc.open_stream(written).read_all().column("s").to_pylist() == [None]


def test_gzip_answer_decompresses_to_the_plain_answer() -> None:
    with LocalEngine() as engine:
        engine.insert_arrow("records", shuffled_records(5_000))
        with run_local_server(engine) as server:
            headers = {"Authorization": server.token, "Accept": responses.ARROW}
            params = {"sql": "SELECT message, attributes FROM records", "limit": 5_000}
            with httpx.Client(base_url=server.url, headers=headers) as http:
                plain = http.get("/v1/query", params=params, headers={"Accept-Encoding": "identity"})
                request = http.build_request(
                    "GET", "/v1/query", params=params, headers={"Accept-Encoding": "gzip"}
                )
                packed = http.send(request, stream=True)
                raw = b"".join(packed.iter_raw())
                packed.close()
    assert packed.headers["content-encoding"] == "gzip" and len(raw) < len(plain.content)
    assert gzip.decompress(raw) == plain.content
    assert pa.ipc.open_stream(plain.content).read_all().num_rows == 5_000
