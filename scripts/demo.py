"""`make demo`: the main job, end to end, on this machine alone.

1. Start the local Logfire-compatible server with three days of demo telemetry.
2. Make a throwaway Airflow home (SQLite) whose DAGs folder is `example_dags/`.
3. Run `airflow dags test logfire_daily_export` for yesterday (UTC) against the local server.
4. Stop the server (whatever happened) and show where the files are and what is in them.

Everything goes under `.demo/`, which is recreated on each run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
TOKEN = "pylf_v1_local_devtoken"
DAG_ID = "logfire_daily_export"


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    ready = DEMO / "server.url"
    cmd = [
        sys.executable, "-m", "airflow_provider_logfire.local", "serve",
        "--port", "0", "--token", TOKEN, "--ready-file", str(ready),
        "--demo-days", "3", "--demo-rows-per-day", "25000",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not (ready.exists() and ready.read_text().strip()):
        if proc.poll() is not None:
            raise SystemExit(f"The local server exited early:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"The local server did not start within 120 s; see {log_path}")
        time.sleep(0.2)
    return proc, ready.read_text().strip()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def airflow(args: list[str], env: dict[str, str], log_path: Path) -> None:
    with log_path.open("a") as log:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        raise SystemExit(
            f"`airflow {' '.join(args)}` failed; the end of {log_path}:\n{log_path.read_text()[-5000:]}"
        )


def summarize(root: Path) -> None:
    """One exported file set: its manifest, then its rows read back as one table."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    manifest = json.loads((root / "_SUCCESS").read_text())
    size = sum(entry["bytes"] for entry in manifest["files"])
    print(
        f"\n{root.relative_to(ROOT)}/: {len(manifest['files'])} files partitioned by "
        f"{', '.join(manifest['partition_by'])}, {manifest['rows']:,} rows, {size / 1e6:.1f} MB (_SUCCESS lists them)"
    )
    columns = ["service_name", "level", "start_timestamp", "is_exception"]
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=columns)
    first, last = pc.min_max(table["start_timestamp"]).values()
    print(f"  start_timestamp from {first} to {last}")
    counts = (
        table.group_by(["service_name", "level"])
        .aggregate([("level", "count")])
        .sort_by([("service_name", "ascending"), ("level", "ascending")])
    )
    print(f"  {'service':<14} {'level':>5} {'rows':>8}")
    for row in counts.to_pylist():
        print(f"  {row['service_name']:<14} {row['level']:>5} {row['level_count']:>8,}")
    print(f"  exceptions: {pc.sum(table['is_exception']).as_py():,}")


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    airflow_home = DEMO / "airflow"
    exports = DEMO / "exports"
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)

    print("Starting the local Logfire server with 3 days of demo data ...")
    server, url = start_server(DEMO / "server.log")
    try:
        print(f"  listening on {url}")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                {"conn_type": "logfire", "host": url, "password": TOKEN}
            ),
            "LOGFIRE_EXPORT_ROOT": str(exports),
        }
        log = DEMO / "airflow.log"
        print("Preparing a throwaway Airflow home (SQLite) ...")
        airflow(["db", "migrate"], env, log)
        print("Checking the connection: airflow connections test logfire_default --verbose ...")
        airflow(
            ["connections", "test", "logfire_default", "--verbose"],
            {**env, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
            log,
        )
        reached = [line for line in log.read_text().splitlines() if "Connected to " in line]
        if reached:  # the hook logs "Connected to <organization>/<project> at <url>"
            print("  " + reached[-1][reached[-1].index("Connected to ") :].split(" [")[0])
        print(f"Running {DAG_ID} for {yesterday:%Y-%m-%d} (airflow dags test) ...")
        # A data-interval timetable tested at `today` runs the interval that ends there: yesterday.
        airflow(["dags", "test", DAG_ID, today.isoformat()], env, log)
    finally:
        stop(server)
        print("Local server stopped.")

    sets = sorted(marker.parent for marker in exports.rglob("_SUCCESS"))
    if not sets:
        print(f"No export was written; see {log}")
        return 1
    print(f"\nExported (under {exports.relative_to(ROOT)}/):")
    for root in sets:
        summarize(root)
    print(f"\nLogs: {log.relative_to(ROOT)} (Airflow), {(DEMO / 'server.log').relative_to(ROOT)} (server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
