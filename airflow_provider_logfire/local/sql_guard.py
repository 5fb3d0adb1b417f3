"""Refuse any SQL that is not exactly one read-only SELECT, before it reaches DuckDB.

The query API is read-only, and the local server shares one DuckDB database between all
requests: a `CREATE`, `SET` or `ATTACH` sent by one client would change what every other client
sees. DuckDB's own parser decides what a statement is (`duckdb.extract_statements`), so there is
no second, regex-based idea of SQL that could disagree with the one that runs. Statements that
read files or the network inside a SELECT (`read_csv`, `read_text`, ...) pass this guard; the
engine's configuration (`enable_external_access = false`) is what stops them.

The stored tables sit in a private schema behind per-request views that apply the time window;
naming that schema anywhere in the SQL (even inside a string given to `query_table`) is refused,
so no query can read past its window.
"""

from __future__ import annotations

import duckdb

from airflow_provider_logfire.local.tables import STORE_SCHEMA

#: DuckDB parses `WITH`, `FROM x`, `VALUES`, `DESCRIBE`, `SUMMARIZE` and `SHOW` as SELECT too.
_ALLOWED = "SELECT"

#: Names for statement types whose DuckDB name hides the keyword a user typed.
_READABLE_NAMES = {
    "LOAD": "INSTALL/LOAD",
    "SET": "SET/RESET/USE",
    "VACUUM": "VACUUM/ANALYZE",
    "CALL": "CALL/CHECKPOINT",
    "MULTI": "PIVOT (multi-statement)",
}


class SqlRefusedError(ValueError):
    """The SQL is not something the query API runs; the message says what and why."""


def check_select(sql: str) -> None:
    """Raise `SqlRefusedError` unless `sql` is exactly one SELECT statement.

    A parse error is reported with DuckDB's own message, so the client sees the same text
    (line, caret) it would get from DuckDB.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlRefusedError(str(exc)) from None
    if not statements:
        raise SqlRefusedError("Only one SELECT statement is allowed; the SQL is empty")
    if len(statements) > 1:
        raise SqlRefusedError(
            f"Only one SELECT statement is allowed; got {len(statements)} statements separated by ';'"
        )
    kind = _statement_kind(statements[0])
    if kind != _ALLOWED:
        raise SqlRefusedError(f"Only one SELECT statement is allowed; got {kind}: the query API is read-only")
    if STORE_SCHEMA in sql.lower():
        raise SqlRefusedError(
            f"{STORE_SCHEMA!r} is the local server's private storage; query the tables `records` and "
            "`metrics`, which hold the request's time window"
        )


def _statement_kind(statement: duckdb.Statement) -> str:
    """The statement's type as a readable keyword (`COPY`, `INSTALL/LOAD`, ...)."""
    try:
        name = statement.type.name
    except ValueError:
        # DuckDB knows statement types its Python enum does not (e.g. UPDATE EXTENSIONS).
        return "a statement of an unsupported type"
    return _READABLE_NAMES.get(name, name)
