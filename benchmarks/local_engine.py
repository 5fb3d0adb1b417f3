"""The local server's engine (DataFusion + Logfire's SQL layer) against DuckDB on the same Arrow data.

    python benchmarks/local_engine.py [--rows 1000000]      (prints one JSON line)

Both contenders read the same Arrow data: the demo's records for a fixed day and seed (the
generator is deterministic), held by a `LocalEngine` and registered in DuckDB (a zero-copy Arrow
scan) for the baseline.

- page: a 10,000-row Arrow page of `SELECT * FROM records` inside a one-day window, fetched over
  loopback HTTP from the local server, each in a process of its own, as users run it. Two
  servers answer it: the local server on its engine, and the same server (the same HTTP
  app, encoders and streaming) with DuckDB answering the same page
  (`start_timestamp >= ? AND start_timestamp < ? LIMIT 10000`, in 4,096-row Arrow batches).
  Query, Arrow IPC encoding, transfer and the client's decoding are all included, and the
  requests alternate between the two servers. Also measured, in-process: each engine's page
  alone (ours to record batches, DuckDB's `sql(...).to_arrow_table()`), and our server's page
  against DuckDB's in-process query.
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
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import duckdb
import httpx
import pyarrow as pa

from airflow_provider_logfire.local.engine import BATCH_ROWS, LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

END = datetime(2026, 11, 28, tzinfo=timezone.utc)
ROUTE_SQL = "SELECT attributes->>'http.route' AS route, count(*) FROM records GROUP BY 1"
PAGE_SQL = "SELECT * FROM records"
DUCKDB_PAGE_SQL = "SELECT * FROM records WHERE start_timestamp >= ? AND start_timestamp < ? LIMIT ?"
PAGE_ROWS = 10_000


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class DuckDBPages:
    """DuckDB in the local server's place: it answers the page query over the same Arrow data.

    Only what the server's query endpoint asks of an engine (`query`, and a result with a
    `schema`, its batches and `close`), for the one query this benchmark sends.
    """

    def __init__(self, records: pa.Table) -> None:
        self._db = duckdb.connect()  # one connection: the benchmark asks for one page at a time
        self._db.register("records", records)

    def query(
        self, sql: str, *, min_timestamp: datetime, max_timestamp: datetime, limit: int, **_: Any
    ) -> Any:
        assert sql == PAGE_SQL, sql
        relation = self._db.sql(DUCKDB_PAGE_SQL, params=[min_timestamp, max_timestamp, limit])
        return _DuckDBResult(relation.to_arrow_reader(BATCH_ROWS))


class _DuckDBResult:
    plan = None

    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self._reader = reader
        self.schema = reader.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return iter(self._reader)

    def close(self) -> None:
        self._reader.close()


def demo_engine(rows: int) -> LocalEngine:
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=rows, seed=1, end=END)
    return engine


def serve(answerer: str, rows: int, channel: multiprocessing.connection.Connection) -> None:
    """The local server over the demo data, in its own process, until told to stop.

    `answerer` is "ours" (the local engine) or "duckdb" (`DuckDBPages` over the same rows).
    """
    engine: Any = demo_engine(rows)
    if answerer == "duckdb":
        engine = DuckDBPages(pa.Table.from_batches(engine._store.window("records", None, None)))
    with run_local_server(engine, gzip=False) as server:
        channel.send((server.url, server.token))
        channel.recv()


def alternating_medians(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each run, called in turn (after one warm-up each), so that both
    contenders see the same machine at the same moments."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat + 1):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values[1:]) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="records in the table")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--page-repeat", type=int, default=31, help="requests per server for the page")
    args = parser.parse_args()

    engine = demo_engine(args.rows)
    records = pa.Table.from_batches(engine._store.window("records", None, None))
    assert records.num_rows == args.rows, records.num_rows
    duck = duckdb.connect()
    duck.register("records", records)
    start, end = END - timedelta(days=1), END

    def duck_page() -> int:
        return duck.sql(DUCKDB_PAGE_SQL, params=[start, end, PAGE_ROWS]).to_arrow_table().num_rows

    def our_page_in_process() -> int:
        with engine.query(PAGE_SQL, min_timestamp=start, max_timestamp=end, limit=PAGE_ROWS) as result:
            return sum(batch.num_rows for batch in result)

    def duck_routes() -> int:
        return duck.sql(ROUTE_SQL).to_arrow_table().num_rows

    def our_routes() -> int:
        with engine.query(ROUTE_SQL, limit=10_000) as result:
            return sum(batch.num_rows for batch in result)

    assert duck_routes() == our_routes(), "the two engines disagree on the routes"
    spawn = multiprocessing.get_context("spawn")
    servers = {}
    for answerer in ("ours", "duckdb"):
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=serve, args=(answerer, args.rows, theirs), daemon=True)
        process.start()
        servers[answerer] = (process, ours)
    params = {
        "sql": PAGE_SQL,
        "min_timestamp": start.isoformat(),
        "max_timestamp": end.isoformat(),
        "limit": PAGE_ROWS,
    }
    fetchers = {}
    clients = []
    for answerer, (_, channel) in servers.items():
        url, token = channel.recv()
        http = httpx.Client(
            base_url=url, headers={"Authorization": token, "Accept": "application/vnd.apache.arrow.stream"}
        )
        clients.append(http)

        def fetch(http: httpx.Client = http) -> pa.Table:
            response = http.get("/v1/query", params=params)
            response.raise_for_status()
            return pa.ipc.open_stream(response.content).read_all()

        fetchers[answerer] = fetch
    served = {name: fetch() for name, fetch in fetchers.items()}
    assert served["ours"].num_rows == served["duckdb"].num_rows == duck_page() == PAGE_ROWS
    assert served["ours"].column("span_id").equals(served["duckdb"].column("span_id")), "different pages"
    page = alternating_medians(
        {name: lambda f=f: f().num_rows for name, f in fetchers.items()}, args.page_repeat
    )
    for http in clients:
        http.close()
    for process, channel in servers.values():
        channel.send("stop")
        process.join(30)
    page_duck_in_process = median_seconds(duck_page, args.repeat)
    page_ours_in_process = median_seconds(our_page_in_process, args.repeat)
    routes_ours = median_seconds(our_routes, args.repeat)
    routes_duck = median_seconds(duck_routes, args.repeat)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "page_ours_s": page["ours"],
                "page_duckdb_s": page["duckdb"],
                "page_ours_in_process_s": page_ours_in_process,
                "page_duckdb_in_process_s": page_duck_in_process,
                "routes_ours_s": routes_ours,
                "routes_duckdb_s": routes_duck,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
