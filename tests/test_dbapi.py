"""The PEP 249 module against a real local server: parameters, results, errors, Airflow, pandas."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from airflow_provider_logfire import dbapi
from airflow_provider_logfire.client import (
    LogfireAuthError,
    LogfireConfigError,
    LogfireQueryError,
    LogfireRateLimitError,
    LogfireServerError,
    LogfireTransportError,
    RetryPolicy,
)
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.faults import Fault, fault_proxy
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


# -- module globals -------------------------------------------------------------------------------


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


# -- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_string_comes_back_as_one_literal(cur, value):
    rows = cur.execute("SELECT %(v)s AS v", {"v": value}).fetchall()
    assert rows == [(value,)]
    assert [d[0] for d in cur.description] == ["v"]
    assert cur.execute("SELECT %s AS a, 'fixed' AS b", [value]).fetchall() == [(value, "fixed")]


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_hostile_value_filters_exactly_its_row(cur, message):
    rows = cur.execute("SELECT message FROM records WHERE message = %(m)s", {"m": message}).fetchall()
    assert rows == [(message,)]
    assert scalar(cur, "SELECT count(*) FROM records") == DEMO_ROWS + len(HOSTILE_MESSAGES)


def test_percent_signs(cur):
    # Without parameters nothing is substituted: '%' and placeholder look-alikes stay as written.
    assert scalar(cur, "SELECT 'a%b' || '%(v)s' || '%s' || '%%' AS v") == "a%b%(v)s%s%%"
    # With parameters, %% is a literal percent sign.
    assert cur.execute("SELECT 'x%%' AS a, %(v)s AS b", {"v": "%"}).fetchall() == [("x%", "%")]
    assert cur.execute("SELECT '%%' AS a", ()).fetchall() == [("%",)]
    pattern = "GET /orders/%"
    by_parameter = scalar(cur, "SELECT count(*) FROM records WHERE message LIKE %(p)s", {"p": pattern})
    by_literal = scalar(cur, "SELECT count(*) FROM records WHERE message LIKE 'GET /orders/%'")
    assert by_parameter == by_literal > 0


def test_scalar_types_round_trip(cur):
    values = (True, False, None, 2**40, -3, Decimal("-12.50"), Decimal("7"))
    assert cur.execute("SELECT %s, %s, %s, %s, %s, %s, %s", values).fetchall() == [values]
    # A negative number after a minus sign must not start a `--` comment.
    assert scalar(cur, "SELECT 10-%s AS v", [-3]) == 13
    assert scalar(cur, "SELECT 10-%s AS v", [Decimal("-0.5")]) == Decimal("10.5")


@pytest.mark.parametrize(
    "number", [0.1, 1e-300, 1.7976931348623157e308, -2.5e-8, 123456789.123456789, 5e-324]
)
def test_floats_round_trip_exactly(cur, number):
    back = scalar(cur, "SELECT %(f)s AS f", {"f": number})
    assert isinstance(back, float) and back == number


def test_dates_and_times(cur):
    paris = timezone(timedelta(hours=2))
    aware = datetime(2024, 5, 31, 14, 0, 0, 123456, tzinfo=paris)
    assert scalar(cur, "SELECT %s AS t", [aware]) == datetime(2024, 5, 31, 12, 0, 0, 123456)
    assert scalar(cur, "SELECT %s AS t", [datetime(2024, 5, 31, 12, 0)]) == datetime(2024, 5, 31, 12, 0)
    assert scalar(cur, "SELECT %s AS d", [date(2024, 2, 29)]) == date(2024, 2, 29)
    assert scalar(cur, "SELECT %s AS t", [time(23, 59, 58, 7)]) == time(23, 59, 58, 7)
    # A datetime parameter filters like the window does (both in UTC).
    noon = datetime(2024, 5, 31, 14, 0, tzinfo=paris)
    by_parameter = scalar(cur, "SELECT count(*) FROM records WHERE start_timestamp < %(t)s", {"t": noon})
    cur.max_timestamp = noon
    by_window = scalar(cur, "SELECT count(*) FROM records")
    assert 0 < by_parameter == by_window < DEMO_ROWS


def test_lists_for_in(cur):
    by_parameter = scalar(cur, "SELECT count(*) FROM records WHERE level IN %(levels)s", {"levels": [9, 17]})
    by_literal = scalar(cur, "SELECT count(*) FROM records WHERE level IN (9, 17)")
    assert by_parameter == by_literal > 0
    names = ("it's", "'; DROP TABLE records; --", "absent")
    rows = cur.execute("SELECT message FROM records WHERE message IN %s ORDER BY message", [names]).fetchall()
    assert rows == sorted((m,) for m in names[:2])


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("nul\x00byte", dbapi.DataError),
        ("lone \ud800 surrogate", dbapi.DataError),
        (float("nan"), dbapi.DataError),
        (float("-inf"), dbapi.DataError),
        (Decimal("NaN"), dbapi.DataError),
        (b"bytes", dbapi.ProgrammingError),
        (bytearray(b"x"), dbapi.ProgrammingError),
        ([], dbapi.ProgrammingError),
        ([1, [2]], dbapi.ProgrammingError),
        ({"a": 1}, dbapi.ProgrammingError),
        (object(), dbapi.ProgrammingError),
        (time(1, tzinfo=timezone.utc), dbapi.ProgrammingError),
    ],
)
def test_unrepresentable_values_are_refused_before_any_request(value, error):
    # Nothing listens on this port: an attempted request would raise OperationalError instead.
    url = f"http://127.0.0.1:{closed_port()}"
    with dbapi.connect(SECRET_TOKEN, url, retry=NO_RETRY) as conn, pytest.raises(error):
        conn.cursor().execute("SELECT %(v)s AS v", {"v": value})


@pytest.mark.parametrize(
    ("sql", "parameters", "match"),
    [
        ("SELECT %(a)s, %(b)s", {"a": 1}, "'b'"),
        ("SELECT %s, %s", [1], "2 %s placeholder"),
        ("SELECT %s", [1, 2], "1 %s placeholder"),
        ("SELECT 1", [1], "0 %s placeholder"),
        ("SELECT %(a)s, %s", {"a": 1}, "mixes"),
        ("SELECT %s", {"a": 1}, "mapping"),
        ("SELECT %(a)s", [1], "sequence"),
        ("SELECT %(a)d", {"a": 1}, "Unsupported '%'"),
        ("SELECT 'abc%' AS v, %(a)s", {"a": 1}, "%%"),
        ("SELECT 50%", [], "Unsupported '%'"),
        ("SELECT '%(a)s'", {"a": 1}, "do not quote"),
        ("SELECT 'x %(a)s'", {"a": 1}, "do not quote"),
        ("SELECT E%(a)s", {"a": "\\'"}, "on its own"),
        ("SELECT U&%(a)s", {"a": "x"}, "on its own"),
        ("SELECT %s", "x", "not str"),
        ("SELECT %s", 5, "not int"),
    ],
)
def test_parameter_mistakes_are_programming_errors(cur, sql, parameters, match):
    with pytest.raises(dbapi.ProgrammingError, match=match):
        cur.execute(sql, parameters)
    assert cur.rowcount == -1 and cur.description is None


def test_render_query_output():
    rendered = dbapi.render_query(
        "SELECT * FROM records WHERE message = %(m)s AND level > %(l)s AND start_timestamp >= %(t)s",
        {
            "m": "it's",
            "l": -1,
            "t": datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            "unused": 0,
        },
    )
    assert rendered == (
        "SELECT * FROM records WHERE message = 'it''s' AND level > (-1) "
        "AND start_timestamp >= TIMESTAMP '2024-01-01 00:00:00.000000'"
    )
    assert dbapi.sql_literal(0.5) == "CAST(0.5 AS DOUBLE)"
    assert dbapi.sql_literal(("a", None, False)) == "('a', NULL, FALSE)"


# -- results --------------------------------------------------------------------------------------


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
    with pytest.raises(dbapi.InterfaceError, match="earlier than max_timestamp") as raised:
        cur.execute("SELECT 1")
    assert isinstance(raised.value.__cause__, LogfireConfigError)


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


# -- errors ---------------------------------------------------------------------------------------


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
    assert "conn_id" in str(raised.value)
    with pytest.raises(dbapi.InterfaceError, match="conn_id"):
        dbapi.connect("  ")
    with pytest.raises(dbapi.InterfaceError, match="not both"):
        dbapi.connect(SECRET_TOKEN, conn_id="logfire_default")
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


# -- connection and cursor life cycle -------------------------------------------------------------


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


# -- Airflow connection ---------------------------------------------------------------------------


def test_connect_through_an_airflow_connection(server, monkeypatch):
    fields = {"conn_type": "logfire", "host": server.url, "password": SECRET_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_LOGFIRE_DBAPI_TEST", json.dumps(fields))
    with dbapi.connect(
        conn_id="logfire_dbapi_test", min_timestamp=DAY_START, max_timestamp=DAY_END, timeout=9
    ) as conn:
        assert conn.client.settings.source == "connection 'logfire_dbapi_test'"
        assert conn.client.settings.timeout == 9, "keyword options override the connection's"
        cur = conn.cursor()
        assert scalar(cur, "SELECT count(*) FROM records") == DEMO_ROWS + len(HOSTILE_MESSAGES)
        assert SECRET_TOKEN not in repr(conn)
    with pytest.raises(dbapi.InterfaceError, match="logfire_dbapi_missing"):
        dbapi.connect(conn_id="logfire_dbapi_missing")


def test_airflow_connection_without_token_is_an_interface_error(server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOGFIRE_DBAPI_NOTOKEN", json.dumps({"conn_type": "logfire", "host": server.url})
    )
    with pytest.raises(dbapi.InterfaceError, match="read token") as raised:
        dbapi.connect(conn_id="logfire_dbapi_notoken")
    assert isinstance(raised.value.__cause__, LogfireConfigError)


# -- pandas ---------------------------------------------------------------------------------------


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
