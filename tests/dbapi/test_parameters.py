"""Parameters rendered into SQL: hostile strings, every supported type, and the mistakes refused."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from airflow_provider_logfire import dbapi
from tests.dbapi.conftest import (
    DEMO_ROWS,
    HOSTILE,
    HOSTILE_MESSAGES,
    NO_RETRY,
    SECRET_TOKEN,
    closed_port,
    scalar,
)


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
