"""Benchmark contenders, one per invocation in a fresh interpreter; each prints one JSON line.

    python cases.py CASE        (environment: BENCH_URL, BENCH_TOKEN, BENCH_* per case)

A fresh interpreter per contender keeps imports, caches and peak RSS (ru_maxrss) its own.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

URL = os.environ.get("BENCH_URL", "")
TOKEN = os.environ.get("BENCH_TOKEN", "")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(**figures: Any) -> None:
    print(json.dumps(figures))


# -- one page: our client vs the official client ----------------------------------------------------


def _page_fetchers() -> dict[str, Callable[[], Callable[[], int]]]:
    sql = "SELECT * FROM records"
    rows = int(os.environ.get("BENCH_ROWS", "10000"))
    since = datetime.now(timezone.utc) - timedelta(days=3)

    def ours() -> Callable[[], int]:
        from airflow_provider_logfire.client import LogfireClient

        client = LogfireClient.from_token(TOKEN, base_url=URL)
        return lambda: client.query_arrow(sql, min_timestamp=since, limit=rows).num_rows

    def ours_zlib() -> Callable[[], int]:
        sys.modules["isal"] = None  # as without the speedups extra: the client inflates with zlib
        return ours()

    def official() -> Callable[[], int]:
        from logfire.query_client import LogfireQueryClient

        client = LogfireQueryClient(read_token=TOKEN, base_url=URL)
        return lambda: client.query_arrow(sql, min_timestamp=since, limit=rows).num_rows

    return {"page_ours": ours, "page_ours_zlib": ours_zlib, "page_official": official}


def page(case: str) -> None:
    import pyarrow  # noqa: F401 - both contenders need it; keep its import out of the figures

    fetch = _page_fetchers()[case]()
    baseline = rss_mb()
    rows = fetch()  # warm-up: connection pool, lazy imports
    times = []
    for _ in range(int(os.environ.get("BENCH_REPEAT", "9"))):
        started = time.perf_counter()
        rows = fetch()
        times.append(time.perf_counter() - started)
    emit(case=case, rows=rows, median_s=statistics.median(times), rss_growth_mb=rss_mb() - baseline)


# -- a whole window to Parquet ------------------------------------------------------------------------


def _window() -> tuple[datetime, datetime]:
    return (
        datetime.fromisoformat(os.environ["BENCH_START"]),
        datetime.fromisoformat(os.environ["BENCH_END"]),
    )


def export_ours() -> None:
    """The provider's export, `export_window`: one count query, pieces fetched concurrently,
    streamed into Parquet. The baselines fetch the same pieces, written to BENCH_PIECES."""
    import pyarrow  # noqa: F401

    from airflow_provider_logfire.client import LogfireClient
    from airflow_provider_logfire.core.exporter import export_window
    from airflow_provider_logfire.core.paging import ExportPlan, WindowExporter
    from airflow_provider_logfire.core.planning import (
        bucket_count_sql,
        choose_bucket,
        piece_sql,
        request_bounds,
    )
    from airflow_provider_logfire.core.windows import TimeWindow

    start, end = _window()
    #: e.g. "hour": write a file set partitioned by hour instead of one file.
    partition_by = [key for key in os.environ.get("BENCH_PARTITION_BY", "").split(",") if key]
    baseline = rss_mb()
    with tempfile.TemporaryDirectory() as tmp, LogfireClient.from_token(TOKEN, base_url=URL) as client:
        plan = ExportPlan("SELECT * FROM records", TimeWindow(start, end))
        pieces = WindowExporter(client, plan).plan_pieces()  # the same plan export_window makes
        started = time.perf_counter()
        summary = export_window(
            client,
            plan,
            Path(tmp) / "records.parquet",
            partition_by=partition_by or None,
            progress_interval=3600,
        )
        elapsed = time.perf_counter() - started

    def request(sql: str, window: TimeWindow) -> dict[str, str]:
        low, high = request_bounds(window)
        return {"sql": sql, "min": low.isoformat(), "max": high.isoformat()}

    # The baselines make the same requests: the count query that plans, then every piece.
    count_sql = bucket_count_sql(
        plan.sql, time_column=plan.time_column, unit=choose_bucket(plan.window).unit, window=plan.window
    )
    work = {
        "count": request(count_sql, plan.window),
        "pieces": [request(piece_sql(plan.sql, time_column=plan.time_column, piece=p), p) for p in pieces],
    }
    Path(os.environ["BENCH_PIECES"]).write_text(json.dumps(work))
    emit(
        case="export_ours",
        rows=summary.rows,
        seconds=elapsed,
        requests=summary.requests,  # the count query that planned the pieces included
        pieces=len(pieces),
        files=len(summary.files),
        rss_growth_mb=rss_mb() - baseline,
        peak_rss_mb=rss_mb(),
    )


def _work() -> tuple[dict[str, str], list[dict[str, str]]]:
    """The count query and the pieces `export_ours` made, for the baselines to make too."""
    work = json.loads(Path(os.environ["BENCH_PIECES"]).read_text())
    return work["count"], work["pieces"]


def export_official_sequential() -> None:
    """What a user would write by hand: the official client, the same pieces one by one, pyarrow."""
    import pyarrow.parquet as pq
    from logfire.query_client import LogfireQueryClient

    count, pieces = _work()
    baseline = rss_mb()
    rows = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, LogfireQueryClient(read_token=TOKEN, base_url=URL) as client:
        client.query_json_rows(
            count["sql"],
            min_timestamp=datetime.fromisoformat(count["min"]),
            max_timestamp=datetime.fromisoformat(count["max"]),
            limit=10_000,
        )
        writer = None
        for piece in pieces:
            table = client.query_arrow(
                piece["sql"],
                min_timestamp=datetime.fromisoformat(piece["min"]),
                max_timestamp=datetime.fromisoformat(piece["max"]),
                limit=10_000,
            )
            if writer is None:
                writer = pq.ParquetWriter(Path(tmp) / "records.parquet", table.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is not None:
            writer.close()
    emit(
        case="export_official_sequential",
        rows=rows,
        seconds=time.perf_counter() - started,
        rss_growth_mb=rss_mb() - baseline,
    )


def floor_httpx_concurrent() -> None:
    """The floor: bare httpx downloads the same Arrow answers with the same concurrency, then drops them."""
    import httpx

    count, pieces = _work()
    workers = int(os.environ.get("BENCH_CONCURRENCY", "4"))
    headers = {"Authorization": TOKEN, "Accept": "application/vnd.apache.arrow.stream"}
    with httpx.Client(base_url=URL, headers=headers, timeout=120) as client:

        def fetch(piece: dict[str, str]) -> int:
            body = {
                "sql": piece["sql"],
                "min_timestamp": piece["min"],
                "max_timestamp": piece["max"],
                "limit": 10_000,
            }
            with client.stream("POST", "/v2/query", json=body) as response:
                response.raise_for_status()
                return sum(len(chunk) for chunk in response.iter_bytes())

        started = time.perf_counter()
        total = fetch(count)  # the count query first, as the exporter plans with it
        with ThreadPoolExecutor(workers) as pool:
            total += sum(pool.map(fetch, pieces))
    emit(case="floor_httpx_concurrent", bytes=total, seconds=time.perf_counter() - started)


# -- DAG-parse cost -------------------------------------------------------------------------------------


_PARSE_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.sdk import DAG, BaseOperator

# What any DAG file pays anyway (the DAG class, its timetable, three tasks): not ours to count.
with DAG("baseline", schedule=None):
    for task_id in ("a", "b", "c"):
        BaseOperator(task_id=task_id)
t1 = time.perf_counter()
before = set(sys.modules)
from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

with DAG("parse_cost", schedule=None):
    LogfireQueryOperator(task_id="query", sql="SELECT count(*) FROM records")
    LogfireDataAvailableSensor(task_id="wait", deferrable=True)
    LogfireToFileTransfer(task_id="export", destination="s3://bucket/r.parquet", compression="zstd")
t2 = time.perf_counter()
heavy = ("pyarrow", "httpx", "duckdb", "datafusion", "pandas", "polars", "numpy", "fsspec")
print(json.dumps({
    "sdk_ms": (t1 - t0) * 1000,
    "ours_ms": (t2 - t1) * 1000,
    "heavy": sorted({m.split(".")[0] for m in set(sys.modules) - before} & set(heavy)),
}))
"""


def parse_cost() -> None:
    """What a DAG file using the provider adds to its parse: importing the operator modules and
    constructing one of each operator in a DAG, over the same DAG built with three plain
    `BaseOperator`s (median of 5 fresh processes)."""
    import subprocess

    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _PARSE_PROBE], capture_output=True, text=True, check=True
            ).stdout.splitlines()[-1]
        )
        for _ in range(5)
    ]
    heavy = sorted({name for run in runs for name in run["heavy"]})
    emit(
        case="parse_cost",
        sdk_ms=statistics.median(r["sdk_ms"] for r in runs),
        ours_ms=statistics.median(r["ours_ms"] for r in runs),
        heavy_modules=heavy,
    )


# -- the local server under load --------------------------------------------------------------------------


def server_load() -> None:
    """16 concurrent clients for a bounded time; every answer must be a complete 200."""
    import httpx

    clients = int(os.environ.get("BENCH_CLIENTS", "16"))
    duration = float(os.environ.get("BENCH_SECONDS", "10"))
    start, end = _window()
    body = {
        "sql": "SELECT * FROM records",
        "min_timestamp": start.isoformat(),
        "max_timestamp": end.isoformat(),
        "limit": 1000,
    }
    headers = {"Authorization": TOKEN, "Accept": "application/vnd.apache.arrow.stream"}
    deadline = time.monotonic() + duration

    def worker(_: int) -> tuple[int, int, list[float]]:
        ok = errors = 0
        latencies = []
        with httpx.Client(base_url=URL, headers=headers, timeout=60) as client:
            while time.monotonic() < deadline:
                t = time.perf_counter()
                try:
                    response = client.post("/v2/query", json=body)
                    if response.status_code == 200 and response.content.endswith(
                        b"\xff\xff\xff\xff\x00\x00\x00\x00"
                    ):
                        ok += 1
                    else:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t)
        return ok, errors, latencies

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    latencies = sorted(x for r in results for x in r[2])
    emit(
        case="server_load",
        clients=clients,
        seconds=duration,
        ok=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        p50_ms=1000 * latencies[len(latencies) // 2] if latencies else None,
        p95_ms=1000 * latencies[int(len(latencies) * 0.95)] if latencies else None,
    )


CASES: dict[str, Callable[[], None]] = {
    "page_ours": lambda: page("page_ours"),
    "page_official": lambda: page("page_official"),
    "page_ours_zlib": lambda: page("page_ours_zlib"),
    "export_ours": export_ours,
    "export_official_sequential": export_official_sequential,
    "floor_httpx_concurrent": floor_httpx_concurrent,
    "parse_cost": parse_cost,
    "server_load": server_load,
}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
