"""Benchmarks: figures as ratios against a baseline measured in the same run.

Starts the local Logfire-compatible server as a subprocess, then runs each contender in its own
fresh interpreter (so peak RSS is its own), and prints a table and a JSON document.

    python benchmarks/run.py [--rows 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TOKEN = "pylf_v1_local_benchtoken"
HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def local_server(*, rows_per_day: int, latency_ms: int = 0) -> Iterator[str]:
    """The local server with one day of demo data, in a subprocess; yields its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready"
        cmd = [
            sys.executable, "-m", "airflow_provider_logfire.local", "serve",
            "--port", "0", "--token", TOKEN, "--ready-file", str(ready),
            "--demo-days", "1", "--demo-rows-per-day", str(rows_per_day),
            "--latency-ms", str(latency_ms), "--log-level", "warning",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while not ready.exists() or not ready.read_text().strip():
                if proc.poll() is not None:
                    raise RuntimeError(f"local server exited: {proc.stderr.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("local server did not become ready in 120 s")
                time.sleep(0.1)
            yield ready.read_text().strip()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_case(case: str, url: str, rows: int, repeat: int) -> dict:
    """Run `benchmarks/cases.py <case>` in a fresh interpreter and parse its JSON line."""
    env = {
        **os.environ,
        "BENCH_URL": url,
        "BENCH_TOKEN": TOKEN,
        "BENCH_ROWS": str(rows),
        "BENCH_REPEAT": str(repeat),
    }
    out = subprocess.run(
        [sys.executable, str(HERE / "cases.py"), case], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows per fetch (max 10,000)")
    parser.add_argument("--repeat", type=int, default=9, help="timed repetitions per contender")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    figures = []
    with local_server(rows_per_day=max(args.rows * 3, 30_000)) as url:
        ours = run_case("client_arrow", url, args.rows, args.repeat)
        official = run_case("official_arrow", url, args.rows, args.repeat)
    assert ours["rows"] == official["rows"] == args.rows, (ours, official)
    ratio = ours["median_s"] / official["median_s"]
    figures.append(
        {
            "figure": f"fetch {args.rows:,} rows as Arrow: time, ours / official LogfireQueryClient.query_arrow",
            "value": round(ratio, 3),
            "target": "<= 1.0",
            "met": ratio <= 1.0,
            "detail": f"median {ours['median_s'] * 1000:.1f} ms vs {official['median_s'] * 1000:.1f} ms",
        }
    )
    mem_ratio = ours["peak_rss_delta_mb"] / max(official["peak_rss_delta_mb"], 0.1)
    figures.append(
        {
            "figure": f"fetch {args.rows:,} rows as Arrow: peak RSS growth, ours / official",
            "value": round(mem_ratio, 3),
            "target": "<= 1.0 (informational)",
            "met": mem_ratio <= 1.0,
            "detail": f"{ours['peak_rss_delta_mb']:.1f} MB vs {official['peak_rss_delta_mb']:.1f} MB",
        }
    )

    width = max(len(f["figure"]) for f in figures)
    print(f"{'figure':<{width}}  {'value':>8}  {'target':<24} met  detail")
    for f in figures:
        print(
            f"{f['figure']:<{width}}  {f['value']:>8}  {f['target']:<24} {'yes' if f['met'] else 'NO ':<4} {f['detail']}"
        )
    document = {"figures": figures, "raw": {"ours": ours, "official": official}}
    print(json.dumps(document))
    if args.json:
        args.json.write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
