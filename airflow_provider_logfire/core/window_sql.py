"""A query's own SQL restricted to the half-open window `[start, end)`, whatever the API's bounds do.

Logfire's `min_timestamp`/`max_timestamp` filter `records.start_timestamp` and
`metrics.recorded_timestamp`, but whether each bound is inclusive is not documented. A query that
must count each row of a run's window exactly once (an hourly error count, say) therefore cannot
rely on them alone: a row at exactly the window's end would be counted by two consecutive runs
under an inclusive upper bound.

`restrict_to_window` prefixes the user's query with common table expressions that shadow the
tables it reads:

    WITH records AS (SELECT * FROM records WHERE start_timestamp >= '...' AND start_timestamp < '...')
    <the user's query>

Inside a CTE's own definition the name still means the real table (a non-recursive CTE is not in
scope in its own body, in DataFusion as in standard SQL), and DataFusion inlines CTEs into the
plan, so the filter is pushed down into the scan and costs nothing. Only tables the query names
get a CTE. A query that already starts with `WITH` gets the CTEs merged into its own list, first,
so the user's CTEs read the shadowed tables too. `WITH RECURSIVE` queries and statements other
than queries are left as they are (`unrestricted_reason` says why): there the API bounds decide. The API bounds are kept (and
padded, see `planning.request_bounds`) so the server still only scans the window.

No Airflow and no SQL parser: a small lexer (quoted strings and identifiers, comments) is enough to
find the leading keyword and the words the query uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from airflow_provider_logfire.core.planning import (
    nestable_sql,
    quote_identifier,
    request_bounds,
    timestamp_literal,
)
from airflow_provider_logfire.core.windows import TimeWindow

__all__ = [
    "WINDOWED_TABLES",
    "WindowRequest",
    "exact_window_request",
    "restrict_to_window",
    "tables_read",
    "unrestricted_reason",
]

#: The tables Logfire's API bounds filter, and the column they filter on.
WINDOWED_TABLES: dict[str, str] = {
    "records": "start_timestamp",
    "records_all": "start_timestamp",
    "metrics": "recorded_timestamp",
}
#: Statements that can be prefixed with `WITH`; others (EXPLAIN, SHOW, DESCRIBE) are left alone.
_QUERY_KEYWORDS = frozenset({"select", "with", "values"})


def _tokens(sql: str) -> Iterator[tuple[int, int, str]]:
    """`(start, end, word)` of each identifier, keyword or `(` outside strings and comments.

    Unquoted words are lower-cased (DataFusion folds them); double-quoted identifiers keep their
    case and have their doubled quotes undone, so `"records"` and `RECORDS` both read `records`.
    """
    i, size = 0, len(sql)
    while i < size:
        char = sql[i]
        if char == "'":
            close = sql.find("'", i + 1)
            i = size if close < 0 else close + 1  # a doubled quote just reopens: same result
        elif char == '"':
            end = i + 1
            while True:
                close = sql.find('"', end)
                if close < 0:
                    close = size
                    break
                if sql.startswith('""', close):
                    end = close + 2
                    continue
                break
            yield i, close + 1, sql[i + 1 : close].replace('""', '"')
            i = close + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = size if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = size if close < 0 else close + 2
        elif char.isalpha() or char == "_":
            end = i + 1
            while end < size and (sql[end].isalnum() or sql[end] in "_$"):
                end += 1
            yield i, end, sql[i:end].lower()
            i = end
        elif char == "(":
            yield i, i + 1, "("
            i += 1
        else:
            i += 1


def tables_read(sql: str) -> list[str]:
    """The windowed tables (`WINDOWED_TABLES`) that `sql` names, in their canonical order.

    A word is enough: a column or alias that happens to be called `metrics` only costs an unused
    CTE, which DataFusion drops from the plan.
    """
    words = {word for _, _, word in _tokens(sql)}
    return [table for table in WINDOWED_TABLES if table in words]


def _ctes(tables: list[str], window: TimeWindow) -> str:
    start, end = timestamp_literal(window.start), timestamp_literal(window.end)
    parts = []
    for table in tables:
        name, column = quote_identifier(table), quote_identifier(WINDOWED_TABLES[table])
        parts.append(f"{name} AS (SELECT * FROM {name} WHERE {column} >= {start} AND {column} < {end})")
    return ",\n".join(parts)


def restrict_to_window(sql: str, window: TimeWindow) -> str:
    """`sql` reading only the rows of `records`/`records_all`/`metrics` in `[window.start, window.end)`.

    Returns the query unchanged (but for a trailing `;` and comments, which are cut off) when it
    names none of those tables or cannot take the prefix: see `unrestricted_reason`. Raises
    `LogfireConfigError` for empty SQL.
    """
    text = nestable_sql(sql)
    tokens = list(_tokens(text))
    tables = tables_read(text)
    if not tables or _unrestricted_reason(tokens) is not None:
        return text
    first_start, first_end, first = tokens[0]
    ctes = _ctes(tables, window)
    if first != "with":
        # A newline, not a space: the user's query may start with a `--` comment.
        return f"WITH {ctes}\n{text}"
    return f"{text[:first_start]}WITH {ctes},\n{text[first_end:].lstrip()}"


def unrestricted_reason(sql: str) -> str | None:
    """Why `restrict_to_window` leaves `sql` as it is although it reads a windowed table; else None."""
    text = nestable_sql(sql)
    return _unrestricted_reason(list(_tokens(text))) if tables_read(text) else None


def _unrestricted_reason(tokens: list[tuple[int, int, str]]) -> str | None:
    first = tokens[0][2]
    if first != "(" and first not in _QUERY_KEYWORDS:
        return f"a {first.upper()} statement cannot start with WITH"
    if first == "with" and len(tokens) > 1 and tokens[1][2] == "recursive":
        # In a WITH RECURSIVE list DataFusion resolves a CTE's own name to itself even in a plain
        # SELECT, so `records AS (SELECT * FROM records ...)` cannot shadow the table there; and
        # nesting the query in `SELECT * FROM (...)` would lose its ORDER BY (DataFusion drops a
        # subquery's sort).
        return "a WITH RECURSIVE query cannot shadow the tables it reads"
    return None


class WindowRequest(NamedTuple):
    """The SQL and API bounds of one query over a window (see `exact_window_request`)."""

    sql: str
    min_timestamp: datetime
    max_timestamp: datetime
    #: Why the SQL could not be restricted to the window (then the API bounds alone decide).
    unrestricted: str | None = None


def exact_window_request(sql: str, window: TimeWindow) -> WindowRequest:
    """The SQL and API `min_timestamp`/`max_timestamp` that read exactly `[window.start, window.end)`.

    The SQL holds the exact edges (`restrict_to_window`); the API bounds are padded
    (`planning.request_bounds`) so that they contain the window whether each is inclusive or not.
    When the SQL cannot be restricted (`unrestricted` says why), the API bounds are the window's
    own edges, exact if the server's bounds are half-open.
    """
    reason = unrestricted_reason(sql)
    if reason is not None:
        return WindowRequest(nestable_sql(sql), window.start, window.end, reason)
    low, high = request_bounds(window)
    return WindowRequest(restrict_to_window(sql, window), low, high)
