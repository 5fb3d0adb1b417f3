"""A local server with one seeded day (demo rows plus hostile strings), for the DB-API tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from airflow_provider_logfire import dbapi
from airflow_provider_logfire.client import RetryPolicy
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

#: Far from today, so the rows inserted relative to now never fall inside it.
DAY_END = datetime(2024, 6, 1, tzinfo=timezone.utc)
DAY_START = DAY_END - timedelta(days=1)
DEMO_ROWS = 200
SECRET_TOKEN = "pylf_v1_us_dbapiSECRETtoken42"
NO_RETRY = RetryPolicy.none()

#: Values that would end, escape or confuse a naively built string literal.
HOSTILE = [
    "it's",
    "'; DROP TABLE records; --",
    "\\' OR 1=1 --",
    "\\",
    "ends with backslash \\",
    "back\\slash\\'quote",
    "'' OR ''='",
    "100% %s %(v)s %% done",
    "%(v)s",
    "ünïcødé ✓ 😀 \u202ertl \u2028",
    "line\nbreak\r\ttab",
    "/* not a comment */ -- nor this",
    '"double" `back` $$dollar$$',
    "",
]
#: Records inserted with these messages, one each, inside the day.
HOSTILE_MESSAGES = HOSTILE[:4]


def _records(rows: list[tuple[datetime, str]]) -> pa.Table:
    starts, messages = zip(*rows, strict=True)
    return pa.table(
        {
            "start_timestamp": pa.array(starts, pa.timestamp("us", "UTC")),
            "message": pa.array(messages),
            "span_name": pa.array(messages),
            "level": pa.array([9] * len(rows), pa.int32()),
            "service_name": pa.array(["dbapi-test"] * len(rows)),
        }
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    now = datetime.now(timezone.utc)
    engine = LocalEngine()
    engine.load_demo(days=1, rows_per_day=DEMO_ROWS, seed=11, end=DAY_END)
    hostile = [(DAY_START + timedelta(hours=6, seconds=i), m) for i, m in enumerate(HOSTILE_MESSAGES)]
    recent = [(now - timedelta(hours=1), "marker-recent"), (now - timedelta(days=3), "marker-old")]
    engine.insert_arrow("records", _records(hostile + recent))
    with run_local_server(engine, token=SECRET_TOKEN) as running:
        yield running
    engine.close()


@pytest.fixture
def conn(server: LocalServer) -> Iterator[dbapi.Connection]:
    """A connection reading the seeded day."""
    with dbapi.connect(
        SECRET_TOKEN, server.url, min_timestamp=DAY_START, max_timestamp=DAY_END, retry=NO_RETRY
    ) as connection:
        yield connection


@pytest.fixture
def cur(conn: dbapi.Connection) -> dbapi.Cursor:
    return conn.cursor()


def scalar(cursor: dbapi.Cursor, sql: str, parameters=None):
    """The single value of a one-row, one-column result."""
    rows = cursor.execute(sql, parameters).fetchall()
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
