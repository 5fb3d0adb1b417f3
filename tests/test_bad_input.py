"""Bad input, one case per test: each gets a specific message that says what to fix.

Operators are executed directly with a task-context mapping against the local server, the way
Airflow calls `execute`, so each message is checked exactly where a user would meet it. What no
retry can fix reaches Airflow as `AirflowFailException` (so `retries` are not spent on it), with
the original error's message and the original error chained: `fails_fast` checks both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_logfire._airflow.compat import AirflowFailException
from airflow_provider_logfire.client import (
    ClientSettings,
    LogfireAuthError,
    LogfireClient,
    LogfireConfigError,
    LogfireQueryError,
)
from airflow_provider_logfire.core.windows import WindowError
from airflow_provider_logfire.hooks.logfire import LogfireHook
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server
from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer
from airflow_provider_logfire.writers import DestinationError

TOKEN = "pylf_v1_us_BaDiNpUtToKeN5"
END = datetime(2026, 11, 27, tzinfo=timezone.utc)
CONTEXT = {"data_interval_start": END - timedelta(days=1), "data_interval_end": END}


@pytest.fixture(scope="module")
def server():
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=2_000, seed=1, end=END)
    with run_local_server(engine, token=TOKEN) as running:
        yield running
    engine.close()


@pytest.fixture
def logfire_conn(server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOGFIRE_DEFAULT",
        json.dumps({"conn_type": "logfire", "host": server.url, "password": TOKEN}),
    )


@contextmanager
def fails_fast(error: type[Exception], match: str) -> Iterator[SimpleNamespace]:
    """The block fails the task at once: `AirflowFailException` chaining an `error` matching `match`.

    Yields a holder whose `value`, once the block has failed, is the chained error.
    """
    cause = SimpleNamespace(value=None)
    with pytest.raises(AirflowFailException) as failed:
        yield cause
    cause.value = failed.value.__cause__
    assert isinstance(cause.value, error), repr(cause.value)
    assert re.search(match, str(cause.value)), str(cause.value)
    assert str(failed.value) == f"{type(cause.value).__name__}: {cause.value}"


def query(sql: str, **kwargs) -> LogfireQueryOperator:
    return LogfireQueryOperator(task_id="q", sql=sql, **kwargs)


def test_invalid_sql_shows_the_servers_message(logfire_conn):
    with fails_fast(
        LogfireQueryError,
        r"Logfire query failed: SQL error: ParserError\(\"Expected: end of statement, found: FORM",
    ):
        query("SELECT * FORM records").execute(CONTEXT)


def test_unknown_table_is_named(logfire_conn):
    with fails_fast(LogfireQueryError, "table 'datafusion.public.spans' not found"):
        query("SELECT * FROM spans").execute(CONTEXT)


def test_empty_sql(logfire_conn):
    with fails_fast(LogfireConfigError, "The SQL query is empty: give a SELECT statement"):
        query("   ").execute(CONTEXT)


def test_min_not_before_max(logfire_conn):
    with fails_fast(
        WindowError, r"min_timestamp is 2026-11-27T00:00:00\+00:00 and max_timestamp is 2026-11-26"
    ):
        query("SELECT 1", min_timestamp="2026-11-27", max_timestamp="2026-11-26").execute(CONTEXT)


def test_unparsable_templated_timestamp(logfire_conn):
    # What `{{ macros.ds_add(ds, -1) }}`-style templates give when they go wrong: prose, not a time.
    with fails_fast(WindowError, r"min_timestamp='last tuesday' is not an ISO 8601 timestamp.*'2026-11-27'"):
        query("SELECT 1", min_timestamp="last tuesday", max_timestamp="2026-11-28").execute(CONTEXT)


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_limit_out_of_range(limit):
    with pytest.raises(ValueError, match=rf"limit must be an integer from 1 to 10,000, got {limit}"):
        query("SELECT 1", limit=limit)


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_limit_out_of_range_in_the_client(server, limit):
    with (
        LogfireClient.from_token(TOKEN, base_url=server.url) as client,
        pytest.raises(LogfireConfigError, match="limit must be an integer from 1 to 10,000"),
    ):
        client.query_json("SELECT 1", limit=limit)


def test_unknown_region(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LF_AP", json.dumps({"conn_type": "logfire", "password": "t", "extra": {"region": "ap"}})
    )
    with pytest.raises(
        LogfireConfigError,
        match=r"Unknown Logfire region 'ap' in connection 'lf_ap': choose one of auto, us, eu",
    ):
        LogfireHook("lf_ap").get_settings()


def test_eu_token_on_the_us_host_is_explained():
    settings = ClientSettings(token="pylf_v1_eu_x", region="us", source="connection 'lf'")
    from airflow_provider_logfire.client.protocol import RequestSpec, error_from_response

    error = error_from_response(
        settings, RequestSpec("POST", "/v2/query"), 401, {}, b'{"detail":"Invalid token"}'
    )
    assert isinstance(error, LogfireAuthError)
    assert "the token is an EU token" in str(error)
    assert "set region to 'eu' or 'auto'" in str(error)


def test_wrong_token_against_a_server(server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOGFIRE_DEFAULT",
        json.dumps({"conn_type": "logfire", "host": server.url, "password": "pylf_v1_us_nottheone"}),
    )
    with fails_fast(
        LogfireAuthError,
        r"refused the read token \(HTTP 401\) for http://127\.0\.0\.1:\d+ \(connection 'logfire_default'\)",
    ) as info:
        query("SELECT 1").execute(CONTEXT)
    assert "nottheone" not in str(info.value)


def test_empty_token(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LOGFIRE_DEFAULT", json.dumps({"conn_type": "logfire", "password": ""}))
    with fails_fast(LogfireConfigError, "No Logfire read token in connection 'logfire_default'"):
        query("SELECT 1").execute(CONTEXT)


def test_plain_http_to_a_remote_host(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOGFIRE_DEFAULT",
        json.dumps({"conn_type": "logfire", "host": "http://logfire.internal:8080", "password": "t"}),
    )
    with fails_fast(
        LogfireConfigError,
        r"Refusing to send the read token over plain HTTP to logfire\.internal.*allow_insecure_http",
    ):
        query("SELECT 1").execute(CONTEXT)


def test_unwritable_destination(logfire_conn, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    task = LogfireToFileTransfer(task_id="x", destination=str(blocker / "records.parquet"))
    with pytest.raises(DestinationError, match=r"not-a-directory/records\.parquet"):
        task.execute(CONTEXT)
    assert blocker.read_text() == "a file where a directory should be"


def test_unknown_format():
    with pytest.raises(
        ValueError, match="unknown export format 'xlsx'; valid formats: parquet, csv, jsonl, arrow"
    ):
        LogfireToFileTransfer(task_id="x", destination="/tmp/x", format="xlsx")


def test_unknown_compression():
    with pytest.raises(
        ValueError,
        match="unknown compression 'snappy' for format 'csv'; valid compressions: none, gzip, zstd",
    ):
        LogfireToFileTransfer(task_id="x", destination="/tmp/x.csv", format="csv", compression="snappy")


def test_zero_width_interval_names_the_fixes(logfire_conn):
    zero = {"data_interval_start": END, "data_interval_end": END, "logical_date": END}
    with fails_fast(WindowError, "zero-width") as info:
        query("SELECT 1").execute(zero)
    for fix in ("CronDataIntervalTimetable", "window=timedelta(days=1)", "min_timestamp"):
        assert fix in str(info.value)
