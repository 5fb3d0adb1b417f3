"""LogfireHook: connection → settings, the query methods, and testing from Airflow's CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_logfire.client import LogfireConfigError
from airflow_provider_logfire.hooks.logfire import LogfireHook
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

TOKEN = "pylf_v1_us_HoOkSeCrEt77"
END = datetime(2026, 11, 27, tzinfo=timezone.utc)
DAY = {"min_timestamp": END - timedelta(days=1), "max_timestamp": END}


@pytest.fixture(scope="module")
def server():
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=5_000, seed=5, end=END)
    with run_local_server(engine, token=TOKEN) as running:
        yield running
    engine.close()


@pytest.fixture
def connection(monkeypatch):
    """Set `logfire_default` (or another id) through Airflow's environment-variable secrets backend."""

    def set_conn(conn_id: str = "logfire_default", **fields) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "logfire", **fields}))
        return conn_id

    return set_conn


def test_settings_from_connection_fields_and_extras(connection):
    connection(
        "lf_eu",
        password=" pylf_v1_eu_abc ",
        extra={
            "api_version": "v1",
            "timeout": "12",
            "environment": "prod, staging",
            "allow_insecure_http": "true",
        },
    )
    settings = LogfireHook("lf_eu").get_settings()
    assert settings.resolved_base_url == "https://logfire-eu.pydantic.dev"
    assert settings.api_version == "v1"
    assert settings.timeout == 12.0
    assert settings.environment == ("prod", "staging")
    assert settings.allow_insecure_http is True
    assert settings.source == "connection 'lf_eu'"


def test_prefixed_extras_from_the_ui_form(connection):
    connection("lf_form", password="t", extra={"extra__logfire__region": "eu"})
    assert LogfireHook("lf_form").get_settings().resolved_base_url == "https://logfire-eu.pydantic.dev"


def test_missing_token_names_the_connection(connection):
    connection("lf_empty", host="https://logfire.example.com")
    with pytest.raises(LogfireConfigError, match="No Logfire read token in connection 'lf_empty'"):
        LogfireHook("lf_empty").get_settings()


def test_bad_timeout_extra_is_explained(connection):
    connection("lf_timeout", password="t", extra={"timeout": "soon"})
    with pytest.raises(LogfireConfigError, match="timeout extra of connection 'lf_timeout'"):
        LogfireHook("lf_timeout").get_settings()


def test_query_methods_against_the_local_server(server, connection):
    connection(host=server.url, password=TOKEN)
    hook = LogfireHook()
    assert hook.info() == {"organization_name": "local", "project_name": "demo"}
    count_sql = "SELECT count(*) AS n FROM records"
    assert hook.query_json_rows(count_sql, **DAY)["rows"] == [{"n": 5_000}]
    assert hook.query_json(count_sql, **DAY)["columns"][0]["values"] == [5_000]
    assert hook.query_arrow("SELECT * FROM records", limit=100, **DAY).num_rows == 100
    assert hook.query_csv(count_sql, **DAY).splitlines()[1] == "5000"
    assert sum(b.num_rows for b in hook.iter_batches("SELECT * FROM records", limit=5000, **DAY)) == 5000
    pandas_df = hook.get_df("SELECT service_name, level FROM records", df_type="pandas", limit=50, **DAY)
    polars_df = hook.get_df("SELECT service_name, level FROM records", df_type="polars", limit=50, **DAY)
    assert pandas_df.shape == (50, 2)
    assert polars_df.shape == (50, 2)
    assert str(polars_df.schema["level"]) == "Int32"
    with pytest.raises(ValueError, match="df_type must be 'pandas' or 'polars'"):
        hook.get_df("SELECT 1", df_type="spark")  # type: ignore[arg-type]


def test_async_client_from_the_connection(server, connection):
    connection(host=server.url, password=TOKEN)

    async def run():
        async with await LogfireHook().get_async_client() as client:
            return await client.query_json_rows("SELECT count(*) AS n FROM records", **DAY)

    assert asyncio.run(run())["rows"] == [{"n": 5_000}]


def test_get_conn_is_the_dbapi_connection_of_the_airflow_connection(server, connection):
    """What `dbapi.connect(conn_id=...)` used to do: the hook reads the connection, dbapi queries."""
    from airflow_provider_logfire import dbapi

    connection("logfire_dbapi_test", host=server.url, password=TOKEN, extra={"timeout": "9"})
    hook = LogfireHook("logfire_dbapi_test", **DAY)
    with hook.get_conn() as conn:
        assert isinstance(conn, dbapi.Connection)
        assert conn.client.settings.source == "connection 'logfire_dbapi_test'"
        assert conn.client.settings.timeout == 9
        assert (conn.min_timestamp, conn.max_timestamp) == (DAY["min_timestamp"], DAY["max_timestamp"])
        assert conn.cursor().execute("SELECT count(*) FROM records").fetchall() == [(5_000,)]
        assert TOKEN not in repr(conn)
    connection("logfire_dbapi_notoken", host=server.url)
    with pytest.raises(
        LogfireConfigError, match="No Logfire read token in connection 'logfire_dbapi_notoken'"
    ):
        LogfireHook("logfire_dbapi_notoken").get_conn()


def test_test_connection_success_and_failure(server, connection):
    connection(host=server.url, password=TOKEN)
    assert LogfireHook().test_connection() == (True, "Connected to local/demo")
    connection("lf_wrong", host=server.url, password="pylf_v1_us_WrongOne")
    ok, message = LogfireHook("lf_wrong").test_connection()
    assert not ok
    assert "HTTP 401" in message
    assert "WrongOne" not in message


def test_repr_names_the_connection_not_the_token(connection):
    connection(password=TOKEN)
    hook = LogfireHook()
    assert repr(hook) == "LogfireHook(logfire_conn_id='logfire_default')"
    assert TOKEN not in repr(hook.get_client())


def _airflow_connections_test(conn: dict) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps({"conn_type": "logfire", **conn}),
    }
    return subprocess.run(
        [sys.executable, "-m", "airflow", "connections", "test", "logfire_default", "--verbose"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_airflow_connections_test_reports_organization_and_project(server, airflow_db):
    result = _airflow_connections_test({"host": server.url, "password": TOKEN})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Connection success!" in output
    assert "Connected to local/demo" in output
    assert TOKEN not in output


def test_airflow_connections_test_failure_explains_and_hides_the_token(server, airflow_db):
    result = _airflow_connections_test({"host": server.url, "password": "pylf_v1_us_NotTheToken1"})
    output = result.stdout + result.stderr
    from airflow import __version__ as airflow_version

    # Up to Airflow 3.2, `connections test` prints the failure but exits 0; 3.3 made it exit 1.
    exits_on_failure = tuple(int(part) for part in airflow_version.split(".")[:2]) >= (3, 3)
    assert result.returncode == (1 if exits_on_failure else 0)
    assert "Connection failed!" in output
    assert "refused the read token (HTTP 401)" in output
    assert "NotTheToken1" not in output


def test_hook_module_import_is_cheap():
    code = (
        "import sys, airflow_provider_logfire.hooks.logfire\n"
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'pandas', 'polars') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # The last line: on Airflow 3.0 common-sql's DbApiHook starts ProvidersManager, which logs to stdout.
    assert out.strip().splitlines()[-1] == "[]"
