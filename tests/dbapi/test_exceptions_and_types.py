"""PEP 249's module globals, exception hierarchy and type constructors, and which exception each
of the client's failures becomes (against a real local server and a fault proxy)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timezone

import pytest

from airflow_provider_logfire import dbapi
from airflow_provider_logfire.client import (
    LogfireAuthError,
    LogfireConfigError,
    LogfireQueryError,
    LogfireRateLimitError,
    LogfireServerError,
    LogfireTransportError,
)
from airflow_provider_logfire.local.faults import Fault, fault_proxy
from tests.dbapi.conftest import NO_RETRY, SECRET_TOKEN, closed_port, scalar


def test_module_globals_and_exception_hierarchy():
    assert (dbapi.apilevel, dbapi.threadsafety, dbapi.paramstyle) == ("2.0", 1, "pyformat")
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(dbapi, name), dbapi.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError"):
        assert issubclass(getattr(dbapi, name), dbapi.DatabaseError)
    assert issubclass(dbapi.NotSupportedError, dbapi.DatabaseError)
    assert issubclass(dbapi.Error, Exception) and not issubclass(dbapi.Error, Warning)
    # PEP 249's Warning is an Exception; ours is also a UserWarning so `warnings` can filter it.
    assert issubclass(dbapi.Warning, Exception) and issubclass(dbapi.Warning, UserWarning)
    assert not issubclass(dbapi.Warning, dbapi.Error)
    assert issubclass(dbapi.TruncatedResultWarning, dbapi.Warning)


def test_constructors():
    assert dbapi.Date(2024, 1, 2) == date(2024, 1, 2)
    assert dbapi.Time(1, 2, 3) == time(1, 2, 3)
    assert dbapi.Timestamp(2024, 1, 2, 3, 4, 5) == datetime(2024, 1, 2, 3, 4, 5)
    assert dbapi.Binary(b"\x00x") == b"\x00x"
    assert dbapi.TimestampFromTicks(86_400 + 3_661) == datetime(1970, 1, 2, 1, 1, 1, tzinfo=timezone.utc)
    assert dbapi.DateFromTicks(86_400 * 2 - 1) == date(1970, 1, 2)
    assert dbapi.TimeFromTicks(3_661.5) == time(1, 1, 1, 500_000)


def test_import_is_airflow_free():
    code = (
        "import sys, airflow_provider_logfire.dbapi;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('airflow', 'pyarrow', 'pandas', 'duckdb')];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_sql_is_a_programming_error_with_the_servers_message(cur):
    with pytest.raises(dbapi.ProgrammingError, match="no_such_column") as raised:
        cur.execute("SELECT no_such_column FROM records")
    assert isinstance(raised.value.__cause__, LogfireQueryError)
    assert raised.value.__cause__.detail in str(raised.value)
    assert cur.rowcount == -1 and cur.description is None
    with pytest.raises(dbapi.ProgrammingError, match="empty"):
        cur.execute("   ")


def test_refused_token_is_an_operational_error_without_the_token(server):
    wrong = "pylf_v1_us_wrongSECRETtoken99"
    with dbapi.connect(wrong, server.url, retry=NO_RETRY) as conn:
        cur = conn.cursor()
        with pytest.raises(dbapi.OperationalError) as raised:
            cur.execute("SELECT 1")
        assert isinstance(raised.value.__cause__, LogfireAuthError)
        for text in (str(raised.value), repr(raised.value), repr(conn), repr(cur), repr(conn.client)):
            assert wrong not in text and SECRET_TOKEN not in text


def test_unreachable_server_is_an_operational_error():
    url = f"http://127.0.0.1:{closed_port()}"
    with (
        dbapi.connect(SECRET_TOKEN, url, retry=NO_RETRY) as conn,
        pytest.raises(dbapi.OperationalError) as raised,
    ):
        conn.cursor().execute("SELECT 1")
    assert isinstance(raised.value.__cause__, LogfireTransportError)
    assert SECRET_TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (
            Fault.status_code(503, body=b"<html>upstream down</html>", content_type="text/html"),
            LogfireServerError,
        ),
        (Fault.status_code(429, retry_after="0"), LogfireRateLimitError),
    ],
)
def test_service_failures_are_operational_errors(server, fault, cause):
    with fault_proxy(server.url) as proxy:
        proxy.inject(fault)
        with dbapi.connect(SECRET_TOKEN, proxy.url, retry=NO_RETRY) as conn:
            cur = conn.cursor()
            with pytest.raises(dbapi.OperationalError) as raised:
                cur.execute("SELECT 1")
            assert isinstance(raised.value.__cause__, cause)
            assert scalar(cur, "SELECT 2 AS v") == 2, "the next query goes through"


def test_configuration_problems_are_interface_errors(server):
    with pytest.raises(dbapi.InterfaceError, match="read_token") as raised:
        dbapi.connect()
    assert "LogfireHook(logfire_conn_id='logfire_default').get_conn()" in str(raised.value)
    with pytest.raises(dbapi.InterfaceError, match="needs a Logfire read token"):
        dbapi.connect("  ")
    with pytest.raises(dbapi.InterfaceError, match="plain HTTP") as raised:
        dbapi.connect(SECRET_TOKEN, "http://logfire.example.com")
    assert isinstance(raised.value.__cause__, LogfireConfigError) and SECRET_TOKEN not in str(raised.value)
    with pytest.raises(dbapi.InterfaceError, match="timeot"):
        dbapi.connect(SECRET_TOKEN, server.url, timeot=3)
    with pytest.raises(dbapi.InterfaceError, match="region"):
        dbapi.connect(SECRET_TOKEN, region="mars")


def test_client_options_reach_the_client(server):
    with dbapi.connect(
        SECRET_TOKEN, server.url, timeout=7, environment="prod, dev", api_version="v1"
    ) as conn:
        settings = conn.client.settings
        assert (settings.timeout, settings.environment, settings.api_version) == (7, ("prod", "dev"), "v1")
