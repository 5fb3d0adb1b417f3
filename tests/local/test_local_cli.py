"""`python -m airflow_provider_logfire.local serve` as a real subprocess, stopped by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local import DEV_TOKEN
from airflow_provider_logfire.local.cli import main

from .conftest import metrics_table, records_table

START_TIMEOUT = 30


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """Start the server, yield (base URL, stdout lines so far), stop it with SIGTERM."""
    ready = tmp_path / f"ready-{time.monotonic_ns()}.txt"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_logfire.local",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        url = ready.read_text().strip()
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=15)
    return process.returncode, out, err


def test_serve_answers_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, process):
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(
            f"{url}/v2/query",
            json={"sql": "SELECT 41 + 1 AS answer", "min_timestamp": "2026-11-27T00:00:00Z"},
            headers={"Authorization": DEV_TOKEN},
        )
        assert response.json()["data"] == [{"answer": 42}]
        code, out, err = stop(process)
    assert code == 0, err
    assert f"Logfire-compatible query API and OTLP ingest on {url}" in out
    expected = f'AIRFLOW_CONN_LOGFIRE_DEFAULT=\'{{"conn_type": "logfire", "host": "{url}", "password": "{DEV_TOKEN}"}}\''
    assert expected in out
    assert "Traceback" not in err and "Finished server process" in err


def test_sigint_also_stops_cleanly(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, process):
        assert httpx.get(f"{url}/health").status_code == 200
        code, _, err = stop(process, signal.SIGINT)
    assert code == 0 and "Traceback" not in err and "KeyboardInterrupt" not in err


def test_a_users_token_never_reaches_the_output(tmp_path: Path) -> None:
    secret = "pylf_v1_eu_s3cr3tV4lu3"
    with serving(tmp_path, env={"LOGFIRE_LOCAL_TOKEN": secret}) as (url, process):
        assert httpx.get(f"{url}/v1/read-token-info", headers={"Authorization": DEV_TOKEN}).status_code == 401
        assert (
            httpx.get(f"{url}/v1/read-token-info", headers={"Authorization": f"Bearer {secret}"}).status_code
            == 200
        )
        httpx.get(f"{url}/v1/query", params={"sql": "SELECT 1"}, headers={"Authorization": secret})
        code, out, err = stop(process)
    assert code == 0
    assert secret not in out and secret not in err
    assert '"password": "<your token>"' in out


def test_parquet_loading_and_data_dir_persistence(tmp_path: Path) -> None:
    pq.write_table(
        records_table().select(["start_timestamp", "message", "level"]), tmp_path / "records.parquet"
    )
    pq.write_table(metrics_table(), tmp_path / "metrics.parquet")
    data_dir = tmp_path / "data"
    count_sql = {
        "sql": "SELECT (SELECT count(*) FROM records) AS r, (SELECT count(*) FROM metrics) AS m",
        "json_rows": "true",
    }
    loading = (
        "--data-dir",
        str(data_dir),
        "--records",
        str(tmp_path / "rec*.parquet"),
        "--metrics",
        str(tmp_path / "metrics.parquet"),
    )
    with serving(tmp_path, *loading) as (url, process):
        first = httpx.get(f"{url}/v1/query", params=count_sql, headers={"Authorization": DEV_TOKEN}).json()
        assert stop(process)[0] == 0
    with serving(tmp_path, "--data-dir", str(data_dir)) as (url, process):
        again = httpx.get(f"{url}/v1/query", params=count_sql, headers={"Authorization": DEV_TOKEN}).json()
        assert stop(process)[0] == 0
    assert first["rows"] == again["rows"] == [{"r": len(records_table()), "m": len(metrics_table())}]


def test_a_pattern_matching_no_file_fails_with_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["serve", "--port", "0", "--records", str(tmp_path / "missing-*.parquet")]) == 2
    assert "No Parquet file matches" in caplog.text


def test_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--token",
        "--demo-days",
        "--demo-rows-per-day",
        "--seed",
        "--records",
        "--metrics",
        "--data-dir",
        "--latency-ms",
        "--query-timeout",
        "--no-gzip",
        "--ready-file",
        "--log-level",
    ):
        assert option in text
    assert DEV_TOKEN in text and "LOGFIRE_LOCAL_TOKEN" in text
