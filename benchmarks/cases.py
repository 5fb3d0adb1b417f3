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

    def official() -> Callable[[], int]:
        from logfire.query_client import LogfireQueryClient

        client = LogfireQueryClient(read_token=TOKEN, base_url=URL)
        return lambda: client.query_arrow(sql, min_timestamp=since, limit=rows).num_rows

    return {"page_ours": ours, "page_official": official}


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
    """The provider's exporter: planned pieces, fetched concurrently, streamed into Parquet."""
    import pyarrow  # noqa: F401

    from airflow_provider_logfire.client import LogfireClient
    from airflow_provider_logfire.core.exporter import ROW_GROUP_ROWS, ExportPlan, WindowExporter
    from airflow_provider_logfire.core.planning import piece_sql, request_bounds
    from airflow_provider_logfire.core.windows import TimeWindow
    from airflow_provider_logfire.writers import open_export

    start, end = _window()
    baseline = rss_mb()
    with tempfile.TemporaryDirectory() as tmp, LogfireClient.from_token(TOKEN, base_url=URL) as client:
        plan = ExportPlan("SELECT * FROM records", TimeWindow(start, end))
        exporter = WindowExporter(client, plan, progress_interval=3600)
        pieces = exporter.plan_pieces()
        exporter.plan_pieces = lambda: pieces  # type: ignore[method-assign]  # time the export, not planning twice
        started = time.perf_counter()
        with open_export(Path(tmp) / "records.parquet", row_group_rows=ROW_GROUP_ROWS) as writer:
            stats = exporter.run(writer.write_batch)
        elapsed = time.perf_counter() - started
    requests = [
        {
            "sql": piece_sql(plan.sql, time_column=plan.time_column, piece=p),
            "min": request_bounds(p)[0].isoformat(),
            "max": request_bounds(p)[1].isoformat(),
        }
        for p in pieces
    ]
    Path(os.environ["BENCH_PIECES"]).write_text(json.dumps(requests))
    emit(
        case="export_ours",
        rows=writer.result.rows,
        seconds=elapsed,
        requests=stats.requests + 1,  # + the count query that planned the pieces
        pieces=len(pieces),
        rss_growth_mb=rss_mb() - baseline,
        peak_rss_mb=rss_mb(),
    )


def _pieces() -> list[dict[str, str]]:
    return json.loads(Path(os.environ["BENCH_PIECES"]).read_text())


def export_official_sequential() -> None:
    """What a user would write by hand: the official client, the same pieces one by one, pyarrow."""
    import pyarrow.parquet as pq
    from logfire.query_client import LogfireQueryClient

    pieces = _pieces()
    baseline = rss_mb()
    rows = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, LogfireQueryClient(read_token=TOKEN, base_url=URL) as client:
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

    pieces = _pieces()
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
        with ThreadPoolExecutor(workers) as pool:
            total = sum(pool.map(fetch, pieces))
    emit(case="floor_httpx_concurrent", bytes=total, seconds=time.perf_counter() - started)


# -- DAG-parse cost -------------------------------------------------------------------------------------


def import_cost() -> None:
    """Cumulative import time (µs, from -X importtime) of the provider's operator modules over airflow.sdk."""
    import subprocess

    def cumulative(code: str, module: str) -> int:
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
        ).stderr
        totals = [
            int(line.split("|")[1]) for line in err.splitlines() if line.rstrip().endswith(f" {module}")
        ]
        return max(totals)

    modules = (
        "airflow_provider_logfire.operators.query",
        "airflow_provider_logfire.sensors.data_available",
        "airflow_provider_logfire.transfers.logfire_to_file",
    )
    runs = []
    for _ in range(5):
        sdk = cumulative("import airflow.sdk", "airflow.sdk")
        both = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                "import airflow.sdk; " + "; ".join(f"import {m}" for m in modules),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        ours = sum(
            int(line.split("|")[1])
            for line in both.splitlines()
            if any(line.rstrip().endswith(f" {m}") for m in modules)
        )
        runs.append((sdk, ours))
    sdk_us = statistics.median(r[0] for r in runs)
    ours_us = statistics.median(r[1] for r in runs)
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, airflow.sdk; before = set(sys.modules); "
         + "; ".join(f"import {m}" for m in modules)
         + "; print(sorted(m for m in ('pyarrow', 'httpx', 'duckdb', 'pandas', 'polars')"
         + " if m in sys.modules and m not in before))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    emit(case="import_cost", sdk_ms=sdk_us / 1000, ours_ms=ours_us / 1000, heavy_modules=heavy)


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
    "export_ours": export_ours,
    "export_official_sequential": export_official_sequential,
    "floor_httpx_concurrent": floor_httpx_concurrent,
    "import_cost": import_cost,
    "server_load": server_load,
}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
