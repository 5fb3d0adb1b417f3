"""The PEP 249 connection, and `connect()`, which opens one from a read token.

A connection is one Logfire client and the query window its cursors start from. `commit()`
does nothing and `rollback()` raises `NotSupportedError`, because the API is read-only.

An Airflow connection is not read here: `dbapi` sits below the Airflow tier and never imports
it. `LogfireHook(logfire_conn_id=...).get_conn()` returns this same kind of connection, built
from the Airflow connection (and bounded by the running task's window).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire.client.settings import ClientSettings, parse_environments
from airflow_provider_logfire.dbapi.cursor import Cursor
from airflow_provider_logfire.dbapi.exceptions import Error, InterfaceError, NotSupportedError
from airflow_provider_logfire.dbapi.window import (
    DEFAULT_LIMIT,
    DEFAULT_MIN_AGE,
    TimeBound,
    checked_bound,
    checked_limit,
    resolved_bound,
)
from airflow_provider_logfire.exceptions import LogfireConfigError

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_provider_logfire.client.sync import LogfireClient


class Connection:
    """A PEP 249 connection: one Logfire client and the query window its cursors start from."""

    def __init__(
        self,
        client: LogfireClient,
        *,
        min_timestamp: TimeBound = DEFAULT_MIN_AGE,
        max_timestamp: TimeBound = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        try:
            self._min_bound = checked_bound(min_timestamp, "min_timestamp")
            self._max_bound = checked_bound(max_timestamp, "max_timestamp")
            self._limit = checked_limit(limit)
        except Error:
            client.close()
            raise
        self._client = client
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<dbapi.Connection to {self._client.base_url} ({state})>"

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the window cursors inherit ----------------------------------------------------------------

    @property
    def min_timestamp(self) -> datetime | None:
        """Lower bound of the queried time range; an age set here counts back from each query."""
        return resolved_bound(self._min_bound)

    @min_timestamp.setter
    def min_timestamp(self, value: TimeBound) -> None:
        self._min_bound = checked_bound(value, "min_timestamp")

    @property
    def max_timestamp(self) -> datetime | None:
        """Upper bound of the queried time range (None: up to now)."""
        return resolved_bound(self._max_bound)

    @max_timestamp.setter
    def max_timestamp(self, value: TimeBound) -> None:
        self._max_bound = checked_bound(value, "max_timestamp")

    @property
    def limit(self) -> int:
        """Maximum rows per query (the API caps it at 10,000)."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = checked_limit(value)

    # -- PEP 249 -----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def client(self) -> LogfireClient:
        """The underlying client, for what DB-API cannot express (Arrow batches, CSV, token info)."""
        self._check_open()
        return self._client

    def cursor(self) -> Cursor:
        self._check_open()
        return Cursor(self)

    def close(self) -> None:
        """Release the HTTP connections; calling it again does nothing."""
        if not self._closed:
            self._closed = True
            self._client.close()

    def commit(self) -> None:
        """Nothing to commit: the API is read-only."""
        self._check_open()

    def rollback(self) -> None:
        self._check_open()
        raise NotSupportedError("The Logfire query API is read-only: there are no transactions to roll back")

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("The connection is closed")


#: ClientSettings fields that connect() accepts as keyword arguments.
_CLIENT_OPTIONS = tuple(
    field.name for field in dataclasses.fields(ClientSettings) if field.name not in ("token", "base_url")
)


def connect(
    read_token: str | None = None,
    base_url: str | None = None,
    *,
    min_timestamp: TimeBound = DEFAULT_MIN_AGE,
    max_timestamp: TimeBound = None,
    limit: int = DEFAULT_LIMIT,
    conn_id: str | None = None,
    **client_settings: Any,
) -> Connection:
    """Open a connection from a read token.

    `base_url` defaults to the token's region; `client_settings` are `ClientSettings` fields
    (`region`, `api_version`, `timeout`, `environment`, `allow_insecure_http`, `retry`).
    `min_timestamp`/`max_timestamp` accept a datetime, a timedelta (that long before each
    query) or None; `limit` is 1..10,000. `conn_id` is refused with directions to the hook,
    which reads Airflow connections (this module never imports Airflow).
    """
    settings = _settings(read_token, base_url, conn_id, client_settings)
    # Check the window before a client (and its connection pool) exists.
    checked_bound(min_timestamp, "min_timestamp")
    checked_bound(max_timestamp, "max_timestamp")
    checked_limit(limit)
    from airflow_provider_logfire.client.sync import LogfireClient

    return Connection(
        LogfireClient(settings), min_timestamp=min_timestamp, max_timestamp=max_timestamp, limit=limit
    )


def _settings(
    read_token: str | None, base_url: str | None, conn_id: str | None, options: dict[str, Any]
) -> ClientSettings:
    if conn_id is not None:
        raise InterfaceError(
            f"connect() does not read Airflow connections (conn_id={conn_id!r}): the DB-API module "
            "works without Airflow. In Airflow, use "
            f"LogfireHook(logfire_conn_id={conn_id!r}).get_conn() "
            "(from airflow_provider_logfire.hooks.logfire), which returns the same DB-API connection; "
            "elsewhere, pass read_token= (and base_url=) to connect()."
        )
    if not (read_token and read_token.strip()):
        raise InterfaceError(
            "connect() needs a Logfire read token: connect(read_token='pylf_v1_...'). "
            "For an Airflow connection, use LogfireHook(logfire_conn_id='logfire_default').get_conn()."
        )
    unknown = sorted(set(options) - set(_CLIENT_OPTIONS))
    if unknown:
        raise InterfaceError(
            f"Unknown connect() option(s) {', '.join(unknown)}; the client options are "
            f"{', '.join(_CLIENT_OPTIONS)}"
        )
    if "environment" in options:
        options = {**options, "environment": parse_environments(options["environment"]) or ()}
    try:
        return ClientSettings(token=read_token, base_url=base_url, **options)
    except LogfireConfigError as exc:
        raise InterfaceError(str(exc)) from exc
