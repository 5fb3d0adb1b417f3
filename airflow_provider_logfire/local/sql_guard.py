"""Refuse any SQL that is not exactly one read-only query, with a message that says why.

The query API is read-only. Two layers make sure of it, so that neither alone has to be perfect:
this guard, which parses the SQL with sqlglot and names what it refused (`got COPY`), and the
engine, which runs every query with DataFusion's `SQLOptions` forbidding DDL, DML (`COPY`,
`INSERT`) and statements (`SET`). SQL that sqlglot cannot parse goes on to DataFusion, whose
error message is then the one the client sees, as on Logfire.

Reading a path as a table (`SELECT * FROM '/etc/passwd'`) is refused here by name; the engine's
sessions hold only the request's window of `records`, `records_all` and `metrics` and have no
file or URL tables enabled, so such a name could not resolve there either.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError

from airflow_provider_logfire.exceptions import LocalServerError


class DataFusionPostgres(Postgres):
    """sqlglot's Postgres, except that date/time format strings stay as written.

    DataFusion's `to_char`, `to_timestamp` and friends take chrono formats (`%Y-%m`); sqlglot's
    Postgres maps formats between Postgres' (`YYYY-MM`) and its own, so SQL regenerated after a
    rewrite would hand DataFusion `YYYY-MM`, which it prints literally. No mapping, no change.
    """

    TIME_MAPPING: ClassVar[dict[str, str]] = {}


#: The dialect the local server parses and regenerates SQL in.
DIALECT = DataFusionPostgres

#: Statement classes whose sqlglot name is the keyword a user typed (others: the first keyword).
_NAMED_STATEMENTS = (exp.Copy, exp.Create, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Set, exp.Merge)

# sqlglot warns (on its logger) when it falls back to a generic command; the guard refuses those
# anyway, with its own message, so the server log need not repeat it.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


class SqlRefusedError(LocalServerError, ValueError):
    """The SQL is not something the query API runs; the message says what and why."""


def parse_query(sql: str) -> exp.Query | exp.Values | None:
    """The one query in `sql`, parsed; None if sqlglot cannot parse it (DataFusion will say why).

    Raises `SqlRefusedError` for an empty text, several statements, anything but a query, or a
    file path used as a table.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (ParseError, TokenError):
        return None
    if not statements:
        raise SqlRefusedError("Only one SELECT statement is allowed; the SQL is empty")
    if len(statements) > 1:
        raise SqlRefusedError(
            f"Only one SELECT statement is allowed; got {len(statements)} statements separated by ';'"
        )
    statement = statements[0]
    if not isinstance(statement, (exp.Query, exp.Values)):
        raise SqlRefusedError(
            f"Only one SELECT statement is allowed; got {_kind(statement, sql)}: the query API is read-only"
        )
    for table in statement.find_all(exp.Table):
        name = table.name
        if any(mark in name for mark in ("/", "\\", "://")) or name.startswith("~"):
            raise SqlRefusedError(
                f"{name!r} is not a table: the query API does not read files or URLs; "
                "query the tables `records`, `records_all` and `metrics`"
            )
    return statement


def _kind(statement: exp.Expression, sql: str) -> str:
    """The statement's leading keyword (`COPY`, `DROP`, ...), as the user typed it."""
    if isinstance(statement, _NAMED_STATEMENTS):
        return type(statement).__name__.upper()
    tokens = sqlglot.tokenize(sql, read=DIALECT)
    return tokens[0].text.upper() if tokens else "an empty statement"
