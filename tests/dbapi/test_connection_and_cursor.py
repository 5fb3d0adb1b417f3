"""Connections and cursors against a real local server: results, windows, limits, life cycle, pandas."""

from __future__ import annotations

import json
import warnings
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from airflow_provider_logfire import dbapi
from airflow_provider_logfire.client import LogfireConfigError
from airflow_provider_logfire.local.faults import fault_proxy
from tests.dbapi.conftest import (
    DAY_END,
    DAY_START,
    DEMO_ROWS,
    HOSTILE_MESSAGES,
    SECRET_TOKEN,
    scalar,
)


def test_description_types_and_python_values(conn, cur):
    sql = (
        "SELECT start_timestamp, message, level, duration, is_exception, tags, attributes, "
        "'x'::BYTEA AS blob, CAST(1.50 AS DECIMAL(3, 2)) AS price FROM records WHERE tags IS NOT NULL "
        "ORDER BY start_timestamp LIMIT 1"
    )
    cur.execute(sql)
    names = [d[0] for d in cur.description]
    assert names == [
        "start_timestamp",
        "message",
        "level",
        "duration",
        "is_exception",
        "tags",
        "attributes",
        "blob",
        "price",
    ]
    assert all(len(d) == 7 for d in cur.description)
    codes = {d[0]: d[1] for d in cur.description}
    assert codes["start_timestamp"] == pa.timestamp("us", "UTC")
    families = {
        "start_timestamp": dbapi.DATETIME,
        "message": dbapi.STRING,
        "attributes": dbapi.STRING,
        "level": dbapi.NUMBER,
        "duration": dbapi.NUMBER,
        "price": dbapi.NUMBER,
        "blob": dbapi.BINARY,
        "is_exception": None,
        "tags": None,
    }
    type_objects = (dbapi.STRING, dbapi.NUMBER, dbapi.DATETIME, dbapi.BINARY, dbapi.ROWID)
    for column, family in families.items():
        for type_object in type_objects:
            # PEP 249: a type object equals the type codes of its family, compared from either side.
            assert (codes[column] == type_object) is (type_object is family), (column, type_object)
            assert (type_object == codes[column]) is (type_object is family), (column, type_object)
    assert dbapi.STRING != dbapi.NUMBER and dbapi.STRING != "string"
    assert len({dbapi.STRING, dbapi.NUMBER, dbapi.DATETIME, dbapi.BINARY, dbapi.ROWID}) == 5
    price = next(d for d in cur.description if d[0] == "price")
    assert (price[4], price[5]) == (3, 2)
    schema = conn.client.query_arrow(sql, min_timestamp=DAY_START, max_timestamp=DAY_END).schema
    assert [(d[1], d[6]) for d in cur.description] == [(f.type, f.nullable) for f in schema]

    (row,) = cur.fetchall()
    start, message, level, duration, is_exception, tags, attributes, blob, price_value = row
    assert isinstance(start, datetime) and start.utcoffset() == timedelta(0)
    assert DAY_START <= start < DAY_END
    assert isinstance(message, str) and type(level) is int and isinstance(duration, float)
    assert type(is_exception) is bool
    assert isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    assert isinstance(json.loads(attributes), dict)
    assert blob == b"x" and price_value == Decimal("1.50")


def test_fetch_methods_walk_one_result(cur):
    sql = "SELECT start_timestamp, span_id FROM records ORDER BY start_timestamp, span_id LIMIT 9"
    assert cur.rowcount == -1 and cur.description is None and cur.arraysize == 1
    with pytest.raises(dbapi.ProgrammingError, match="execute"):
        cur.fetchone()
    expected = cur.execute(sql).fetchall()
    assert len(expected) == 9 and cur.rowcount == 9
    assert all(isinstance(row, tuple) for row in expected)

    cur.execute(sql)
    walked = [cur.fetchone()]
    walked += cur.fetchmany()  # arraysize rows
    cur.arraysize = 3
    walked += cur.fetchmany()
    walked += cur.fetchmany(2)
    walked.append(next(cur))
    walked += list(cur)
    assert walked == expected
    assert cur.fetchone() is None and cur.fetchmany(5) == [] and cur.fetchall() == []

    cur.execute(sql)
    cur.fetchmany(4)
    rest = cur.fetch_arrow_table()
    assert rest.num_rows == 5 and rest.column_names == ["start_timestamp", "span_id"]
    assert rest.column("span_id").to_pylist() == [row[1] for row in expected[4:]]


def test_empty_result_keeps_description(cur):
    cur.execute("SELECT message, level FROM records WHERE false")
    assert cur.rowcount == 0 and cur.fetchall() == [] and cur.fetchone() is None
    assert [d[0] for d in cur.description] == ["message", "level"]


def test_nanosecond_timestamps_become_plain_datetimes(cur):
    value = scalar(cur, "SELECT CAST('2024-05-31 12:00:00.123456789+00:00' AS TIMESTAMP) AS t")  # ns
    assert type(value) is datetime and value == datetime(2024, 5, 31, 12, 0, 0, 123456)


# -- window, limit and truncation -----------------------------------------------------------------


def test_truncation_warning(cur):
    cur.limit = 5
    with pytest.warns(dbapi.TruncatedResultWarning, match="may be truncated") as record:
        cur.execute("SELECT message FROM records")
    assert cur.rowcount == 5 and len(cur.fetchall()) == 5
    assert record[0].filename == __file__, "the warning must point at the caller's line"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cur.execute("SELECT message FROM records LIMIT 4")  # under the limit: no warning
        warnings.simplefilter("ignore", dbapi.Warning)  # and users can silence it by category
        cur.execute("SELECT message FROM records")
    assert cur.rowcount == 5


def test_cursor_inherits_and_overrides_the_window(conn, cur):
    assert (conn.min_timestamp, conn.max_timestamp, conn.limit) == (DAY_START, DAY_END, 10_000)
    total = DEMO_ROWS + len(HOSTILE_MESSAGES)
    assert scalar(cur, "SELECT count(*) FROM records") == total
    noon = DAY_START + timedelta(hours=12)
    cur.max_timestamp = noon
    before_noon = scalar(cur, "SELECT count(*) FROM records")
    other = conn.cursor()
    assert scalar(other, "SELECT count(*) FROM records") == total, "an override stays on its cursor"
    cur.min_timestamp = noon
    del cur.max_timestamp
    after_noon = scalar(cur, "SELECT count(*) FROM records")
    assert 0 < before_noon < total and before_noon + after_noon == total
    del cur.min_timestamp, cur.max_timestamp
    assert scalar(cur, "SELECT count(*) FROM records") == total

    conn.limit = 7
    assert cur.limit == 7 and other.limit == 7
    with pytest.warns(dbapi.TruncatedResultWarning):
        assert len(cur.execute("SELECT message FROM records").fetchall()) == 7
    cur.limit = 3
    assert other.limit == 7 and cur.limit == 3
    with pytest.warns(dbapi.TruncatedResultWarning):
        assert len(cur.execute("SELECT message FROM records").fetchall()) == 3


@pytest.mark.parametrize("bad", [0, 10_001, True, "10", 2.5])
def test_bad_limit_is_an_interface_error(conn, cur, server, bad):
    with pytest.raises(dbapi.InterfaceError, match="limit"):
        cur.limit = bad
    with pytest.raises(dbapi.InterfaceError, match="limit"):
        conn.limit = bad
    with pytest.raises(dbapi.InterfaceError, match="limit"):
        dbapi.connect(SECRET_TOKEN, server.url, limit=bad)


def test_bad_time_bounds_are_interface_errors(conn, server):
    with pytest.raises(dbapi.InterfaceError, match="min_timestamp"):
        conn.cursor().min_timestamp = "yesterday"
    with pytest.raises(dbapi.InterfaceError, match="max_timestamp"):
        dbapi.connect(SECRET_TOKEN, server.url, max_timestamp=date(2024, 1, 1))
    cur = conn.cursor()
    cur.min_timestamp, cur.max_timestamp = DAY_END, DAY_START
    with pytest.raises(dbapi.InterfaceError, match="must not be later than max_timestamp") as raised:
        cur.execute("SELECT 1")
    assert isinstance(raised.value.__cause__, LogfireConfigError)


def test_zero_width_window_answers_columns_and_no_rows(conn, cur):
    """min == max is a valid (empty) window on Logfire: the columns come back, the rows do not."""
    noon = DAY_START + timedelta(hours=12)
    cur.min_timestamp = cur.max_timestamp = noon
    assert cur.execute("SELECT start_timestamp, message FROM records").fetchall() == []
    assert cur.rowcount == 0
    assert [d[0] for d in cur.description] == ["start_timestamp", "message"]


def test_default_window_is_the_last_day_before_each_query(server):
    sql = "SELECT message FROM records WHERE message LIKE 'marker-%' ORDER BY message"
    with dbapi.connect(SECRET_TOKEN, server.url) as conn:
        assert abs(conn.min_timestamp - (datetime.now(timezone.utc) - timedelta(days=1))) < timedelta(
            seconds=5
        )
        assert conn.max_timestamp is None
        cur = conn.cursor()
        assert cur.execute(sql).fetchall() == [("marker-recent",)]
        cur.min_timestamp = timedelta(days=4)
        assert cur.execute(sql).fetchall() == [("marker-old",), ("marker-recent",)]
    with dbapi.connect(SECRET_TOKEN, server.url, min_timestamp=timedelta(days=4)) as conn:
        assert len(conn.cursor().execute(sql).fetchall()) == 2


def test_closed_connection_and_cursor(server):
    conn = dbapi.connect(SECRET_TOKEN, server.url, min_timestamp=DAY_START, max_timestamp=DAY_END)
    cur = conn.cursor()
    assert scalar(cur, "SELECT 1 AS one") == 1
    conn.commit()  # read-only: nothing to do
    with pytest.raises(dbapi.NotSupportedError):
        conn.rollback()
    with conn.cursor() as short_lived:
        short_lived.execute("SELECT 1")
    assert short_lived.closed
    with pytest.raises(dbapi.InterfaceError, match="cursor is closed"):
        short_lived.fetchall()
    with pytest.raises(dbapi.InterfaceError, match="cursor is closed"):
        short_lived.execute("SELECT 1")
    short_lived.close()  # idempotent

    cur.execute("SELECT 1 AS one")
    conn.close()
    conn.close()  # idempotent
    assert conn.closed and "closed" in repr(conn)
    for operation in (conn.cursor, conn.commit, conn.rollback, lambda: conn.client):
        with pytest.raises(dbapi.InterfaceError, match="connection is closed"):
            operation()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
    with pytest.raises(dbapi.InterfaceError):
        cur.fetchone()

    with dbapi.connect(SECRET_TOKEN, server.url) as managed:
        assert not managed.closed
    assert managed.closed


def test_executemany_runs_each_query(server):
    with fault_proxy(server.url) as proxy, dbapi.connect(SECRET_TOKEN, proxy.url) as conn:
        cur = conn.cursor()
        cur.executemany("SELECT %(v)s AS v", [{"v": 1}, {"v": "two"}, {"v": 3.5}])
        assert proxy.requests == 3
        assert cur.fetchall() == [(3.5,)] and cur.rowcount == 1
        cur.setinputsizes([None])
        cur.setoutputsize(100)
        cur.setoutputsize(100, 0)
        assert cur.connection is conn


@pytest.mark.filterwarnings("ignore:pandas only supports SQLAlchemy:UserWarning")
def test_pandas_read_sql(conn):
    pandas = pytest.importorskip("pandas")
    sql = "SELECT start_timestamp, message, level FROM records WHERE level >= %(level)s ORDER BY start_timestamp"
    frame = pandas.read_sql(sql, conn, params={"level": 13})
    expected = conn.cursor().execute(sql, {"level": 13}).fetchall()
    assert 0 < len(frame) == len(expected)
    assert list(frame.columns) == ["start_timestamp", "message", "level"]
    assert str(frame["start_timestamp"].dt.tz) == "UTC"
    assert list(frame.itertuples(index=False, name=None)) == expected

    chunks = list(pandas.read_sql("SELECT message FROM records ORDER BY start_timestamp", conn, chunksize=64))
    assert [len(c) for c in chunks][:-1] == [64] * (len(chunks) - 1)
    assert sum(len(c) for c in chunks) == DEMO_ROWS + len(HOSTILE_MESSAGES)
    # '%' in SQL without params is passed through untouched.
    assert pandas.read_sql("SELECT '100%' AS v", conn)["v"].tolist() == ["100%"]


def test_conn_id_is_refused_with_directions_to_the_hook(server):
    """dbapi never imports Airflow, so an Airflow connection id is answered with where to go instead."""
    for call in (
        lambda: dbapi.connect(conn_id="logfire_reports"),
        lambda: dbapi.connect(SECRET_TOKEN, server.url, conn_id="logfire_reports"),
    ):
        with pytest.raises(dbapi.InterfaceError) as raised:
            call()
        message = str(raised.value)
        assert "LogfireHook(logfire_conn_id='logfire_reports').get_conn()" in message
        assert "read_token=" in message
        assert SECRET_TOKEN not in message
