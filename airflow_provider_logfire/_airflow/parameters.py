"""Bound parameters for the operators' SQL: one rule, shared by the query operator and the transfer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_logfire.exceptions import LogfireConfigError


def bound_sql(sql: str, parameters: Any) -> str:
    """`sql` with `parameters` bound as literals by the DB-API module's escaping (never `%`-formatting).

    Without parameters the SQL is sent as written, so a plain `%` in it stays valid.
    """
    if parameters is None:
        return sql
    from airflow_provider_logfire.dbapi.exceptions import Error
    from airflow_provider_logfire.dbapi.parameters import render_query

    if not isinstance(parameters, Mapping):
        raise LogfireConfigError(
            f"parameters must be a dict of values for %(name)s placeholders, not {type(parameters).__name__}"
        )
    try:
        return render_query(sql, parameters)
    except Error as exc:
        raise LogfireConfigError(f"Cannot bind parameters into the SQL: {exc}") from exc
