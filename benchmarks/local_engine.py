"""The local server's engine (DataFusion + Logfire's SQL layer) against DuckDB on the same Arrow data.

    python benchmarks/local_engine.py [--rows 1000000]      (prints one JSON line)

Both contenders read the same Arrow data: the demo's records for a fixed day and seed (the
generator is deterministic), held by a `LocalEngine` and registered in DuckDB (a zero-copy Arrow
scan) for the baseline, queried through its recommended Arrow path (`sql(...).to_arrow_table()`).

- page: a 10,000-row Arrow page of `SELECT * FROM records` inside a one-day window, fetched from
  the local server (in a process of its own, as users run it) over loopback HTTP — query, Arrow
  IPC encoding and transfer included — against DuckDB running the same windowed query to an
  Arrow table in-process.
- route_count: `SELECT attributes->>'http.route' AS route, count(*) FROM records GROUP BY 1`
  through the engine (SQL rewrite, JSON function, aggregation), against DuckDB's own `->>`.

Each figure is a median over repeated runs after a warm-up; ratios are ours / DuckDB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import duckdb
import httpx
import pyarrow as pa

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

END = datetime(2026, 11, 28, tzinfo=timezone.utc)
ROUTE_SQL = "SELECT attributes->>'http.route' AS route, count(*) FROM records GROUP BY 1"
PAGE_ROWS = 10_000


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def serve(rows: int, channel: multiprocessing.connection.Connection) -> None:
    """The local server over the same demo data, in its own process, until told to stop."""
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=rows, seed=1, end=END)
    with run_local_server(engine, gzip=False) as server:
        channel.send((server.url, server.token))
        channel.recv()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="records in the table")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=args.rows, seed=1, end=END)
    records = pa.Table.from_batches(engine._store.window("records", None, None))
    assert records.num_rows == args.rows, records.num_rows
    duck = duckdb.connect()
    duck.register("records", records)
    start, end = END - timedelta(days=1), END

    def duck_page() -> int:
        sql = "SELECT * FROM records WHERE start_timestamp >= ? AND start_timestamp < ? LIMIT 10000"
        return duck.sql(sql, params=[start, end]).to_arrow_table().num_rows

    def duck_routes() -> int:
        return duck.sql(ROUTE_SQL).to_arrow_table().num_rows

    def our_routes() -> int:
        with engine.query(ROUTE_SQL, limit=10_000) as result:
            return sum(batch.num_rows for batch in result)

    assert duck_routes() == our_routes(), "the two engines disagree on the routes"
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=serve, args=(args.rows, theirs), daemon=True)
    process.start()
    url, token = ours.recv()
    with httpx.Client(base_url=url) as http:
        params = {
            "sql": "SELECT * FROM records",
            "min_timestamp": start.isoformat(),
            "max_timestamp": end.isoformat(),
            "limit": PAGE_ROWS,
        }
        headers = {"Authorization": token, "Accept": "application/vnd.apache.arrow.stream"}

        def our_page() -> int:
            response = http.get("/v1/query", params=params, headers=headers)
            response.raise_for_status()
            return pa.ipc.open_stream(response.content).read_all().num_rows

        assert our_page() == duck_page() == PAGE_ROWS
        page_ours = median_seconds(our_page, args.repeat)
    ours.send("stop")
    process.join(30)
    page_duck = median_seconds(duck_page, args.repeat)
    routes_ours = median_seconds(our_routes, args.repeat)
    routes_duck = median_seconds(duck_routes, args.repeat)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "page_ours_s": page_ours,
                "page_duckdb_s": page_duck,
                "routes_ours_s": routes_ours,
                "routes_duckdb_s": routes_duck,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
