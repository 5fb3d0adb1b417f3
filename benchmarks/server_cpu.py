"""Server-side CPU per answer: the figure least disturbed by a busy machine.

    python benchmarks/server_cpu.py [--rows-per-day 1000000] [--pieces 40]

Starts the local server (as `make bench` does: a subprocess with a day of demo data), plans the
export's pieces as `export_window` does, then fetches pieces one after another as Arrow, with
and without gzip, and prints the server process's CPU time (user + system, from /proc) per
answer, plus the same for the bench's 10,000-row page and the route count. Wall time on a
shared machine swings with the neighbours; CPU seconds spent answering do not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import DAY_END, DAY_START, TOKEN, local_server

ARROW = "application/vnd.apache.arrow.stream"
_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def plan_pieces(url: str) -> list[dict[str, str]]:
    from airflow_provider_logfire.client import LogfireClient
    from airflow_provider_logfire.core.paging import ExportPlan, WindowExporter
    from airflow_provider_logfire.core.planning import piece_sql, request_bounds
    from airflow_provider_logfire.core.windows import TimeWindow

    with LogfireClient.from_token(TOKEN, base_url=url) as client:
        plan = ExportPlan("SELECT * FROM records", TimeWindow(DAY_START, DAY_END))
        pieces = WindowExporter(client, plan).plan_pieces()
    out = []
    for piece in pieces:
        low, high = request_bounds(piece)
        sql = piece_sql(plan.sql, time_column=plan.time_column, piece=piece)
        out.append({"sql": sql, "min_timestamp": low.isoformat(), "max_timestamp": high.isoformat()})
    return out


def measure(http: httpx.Client, pid: int, bodies: list[dict], encoding: str) -> dict[str, float]:
    headers = {"Accept": ARROW, "Accept-Encoding": encoding}
    cpu, started, size = server_cpu_seconds(pid), time.perf_counter(), 0
    for body in bodies:
        with http.stream("POST", "/v2/query", json={"limit": 10_000, **body}, headers=headers) as response:
            response.raise_for_status()
            size += sum(len(chunk) for chunk in response.iter_raw())
    return {
        "cpu_ms_per_answer": 1e3 * (server_cpu_seconds(pid) - cpu) / len(bodies),
        "wall_ms_per_answer": 1e3 * (time.perf_counter() - started) / len(bodies),
        "mb_per_answer": size / len(bodies) / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows-per-day", type=int, default=1_000_000)
    parser.add_argument("--pieces", type=int, default=40, help="how many of the export's pieces to fetch")
    args = parser.parse_args()
    with local_server(rows_per_day=args.rows_per_day) as url:
        pid = _server_pid()
        pieces = plan_pieces(url)[: args.pieces]
        page = {"sql": "SELECT * FROM records", "min_timestamp": DAY_START.isoformat(),
                "max_timestamp": DAY_END.isoformat()}  # fmt: skip
        routes = {
            **page,
            "sql": "SELECT attributes->>'http.route' AS route, count(*) FROM records GROUP BY 1",
        }
        figures = {}
        with httpx.Client(base_url=url, headers={"Authorization": TOKEN}, timeout=120) as http:
            measure(http, pid, pieces[:2], "gzip")  # warm-up
            figures["piece_gzip"] = measure(http, pid, pieces, "gzip")
            figures["piece_identity"] = measure(http, pid, pieces, "identity")
            figures["page_identity"] = measure(http, pid, [page] * 10, "identity")
            figures["routes"] = measure(http, pid, [routes] * 5, "identity")
    for name, values in figures.items():
        print(f"{name:<16} " + "  ".join(f"{k} {v:8.1f}" for k, v in values.items()), file=sys.stderr)
    print(json.dumps(figures))
    return 0


def _server_pid() -> int:
    """The local server's pid: the child of this process that `local_server` started."""
    for child in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split():
        if b"airflow_provider_logfire.local" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise RuntimeError("cannot find the local server's process")


if __name__ == "__main__":
    sys.exit(main())
