"""One benchmark contender per invocation, in a fresh interpreter: prints one JSON line.

Environment: BENCH_URL, BENCH_TOKEN, BENCH_ROWS, BENCH_REPEAT.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

URL = os.environ["BENCH_URL"]
TOKEN = os.environ["BENCH_TOKEN"]
ROWS = int(os.environ["BENCH_ROWS"])
REPEAT = int(os.environ["BENCH_REPEAT"])
SQL = "SELECT * FROM records ORDER BY start_timestamp"
MIN_TS = datetime.now(timezone.utc) - timedelta(days=3)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def client_arrow() -> Callable[[], int]:
    from airflow_provider_logfire.client import LogfireClient

    client = LogfireClient.from_token(TOKEN, base_url=URL)
    return lambda: client.query_arrow(SQL, min_timestamp=MIN_TS, limit=ROWS).num_rows


def official_arrow() -> Callable[[], int]:
    from logfire.query_client import LogfireQueryClient

    client = LogfireQueryClient(read_token=TOKEN, base_url=URL)
    return lambda: client.query_arrow(SQL, min_timestamp=MIN_TS, limit=ROWS).num_rows


CASES = {"client_arrow": client_arrow, "official_arrow": official_arrow}


def main(case: str) -> None:
    import pyarrow  # noqa: F401 - both contenders need it; keep its import out of the figures

    fetch = CASES[case]()
    baseline = _rss_mb()
    rows = fetch()  # warm-up: connection pool, lazy imports
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        rows = fetch()
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "case": case,
                "rows": rows,
                "median_s": statistics.median(times),
                "min_s": min(times),
                "peak_rss_delta_mb": max(_rss_mb() - baseline, 0.0),
                "peak_rss_mb": _rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
