"""LogfireHook: an Airflow connection of type `logfire` turned into a Logfire query client.

The connection holds the read token (password), an optional base URL (host) for self-hosted or
local servers, and extras: `region` (auto/us/eu), `api_version` (v2/v1), `timeout` (seconds),
`environment` (default deployment environment(s), comma-separated), `allow_insecure_http` and
`ui_url` (the web UI of a self-hosted server, for the operators' Logfire link).

Its queries are reported to Airflow's hook-lineage collector (`_airflow.hook_lineage`), and
`get_project()` names the project for lineage and links.

It is also a common-sql `DbApiHook`: `get_conn()` is a PEP 249 connection (see `dbapi`), so
`SQLExecuteQueryOperator`, `SqlSensor`, `get_records`, `get_first` and `get_df` work with a
`logfire` connection, each query bounded by the running task's time window.

Importing this module is cheap (no pyarrow, no duckdb): Airflow imports hooks while parsing DAGs.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.sql.hooks.sql import DbApiHook

from airflow_provider_logfire._airflow.connection_form import (
    CONN_FIELDS,
    HIDDEN_FIELDS,
    PLACEHOLDERS,
    RELABELING,
    wtforms_validators,
)
from airflow_provider_logfire._airflow.hook_lineage import report_read
from airflow_provider_logfire.client.connection import settings_from_connection as connection_settings
from airflow_provider_logfire.client.connection import ui_url_from_extra
from airflow_provider_logfire.client.settings import (
    MAX_LIMIT,
    ClientSettings,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_logfire.client import (
        AsyncLogfireClient,
        ColumnQueryResults,
        LogfireClient,
        ReadTokenInfo,
        RowQueryResults,
    )
    from airflow_provider_logfire.client.project import LogfireProject
    from airflow_provider_logfire.dbapi import Connection as DbApiConnection


log = logging.getLogger(__name__)


def _mask(secret: str) -> None:
    """Ask Airflow to redact the token from task logs, whatever the Airflow 3.x version.

    Under `dag.test()` the supervisor runs in this very process, so this process's masker is the
    one that redacts, and nothing is sent: the in-process supervisor logs every message it is
    sent at debug level, unredacted (Airflow 3.0 printed the token that way).
    """
    if _mask_in_this_process(secret) and _supervisor_in_this_process():
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow 3.0
        try:
            from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
        except ImportError:
            return
    mask_secret(secret)


def _mask_in_this_process(secret: str) -> bool:
    for home in ("airflow.sdk._shared.secrets_masker", "airflow.sdk.execution_time.secrets_masker"):
        try:
            masker = importlib.import_module(home)._secrets_masker
        except (ImportError, AttributeError):
            continue
        masker().add_mask(secret)
        return True
    return False


def _supervisor_in_this_process() -> bool:
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover
        return False
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    return type(comms).__name__ == "InProcessSupervisorComms"


def _running_task_context() -> Mapping[str, Any] | None:
    """The task context when called inside a running task, else None."""
    try:
        from airflow.sdk import get_current_context

        return get_current_context()
    except Exception:  # no task is running here (a script, a test, the API server)
        return None


class LogfireHook(DbApiHook):
    """Talks to Pydantic Logfire's query API using an Airflow connection of type `logfire`.

    :param logfire_conn_id: The connection holding the read token (password), an optional
        base URL (host) and the extras described in the module docstring.
    :param min_timestamp: Start of the window for `get_conn()` queries (DB-API and common-sql).
        Default: the running task's window, else the DB-API default (the last day).
    :param max_timestamp: End of that window, exclusive.
    :param window: Window length ending at the run's interval end / logical date, for runs whose
        data interval is zero-width (Airflow 3's default cron timetable).
    :param limit: Most rows per `get_conn()` query, 1..10,000 (default 10,000).
    """

    conn_name_attr = "logfire_conn_id"
    default_conn_name = "logfire_default"
    conn_type = "logfire"
    hook_name = "Pydantic Logfire"
    _test_connection_sql = "SELECT 1"

    def __init__(
        self,
        logfire_conn_id: str = default_conn_name,
        *,
        min_timestamp: str | datetime | None = None,
        max_timestamp: str | datetime | None = None,
        window: timedelta | None = None,
        limit: int = MAX_LIMIT,
        **kwargs: Any,
    ) -> None:
        super().__init__(logfire_conn_id=logfire_conn_id, **kwargs)
        self.logfire_conn_id = logfire_conn_id
        self.min_timestamp = min_timestamp
        self.max_timestamp = max_timestamp
        self.window = window
        self.limit = limit
        self._project: LogfireProject | None = None
        self._project_named = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(logfire_conn_id={self.logfire_conn_id!r})"

    # -- settings and clients ---------------------------------------------------------------------

    def settings_from_connection(self, conn: Any) -> ClientSettings:
        """Client settings from a connection object (no I/O, so shared by the sync and async paths).

        The mapping itself is `client.connection.settings_from_connection`, which knows nothing of
        Airflow; the hook adds what only Airflow can do: masking the token in task logs.
        """
        token = (conn.password or "").strip()
        if token:
            _mask(token)
        return connection_settings(
            self.logfire_conn_id, host=conn.host, password=conn.password, extra=conn.extra_dejson
        )

    def get_settings(self) -> ClientSettings:
        return self.settings_from_connection(self.get_connection(self.logfire_conn_id))

    async def aget_settings(self) -> ClientSettings:
        """Like `get_settings`, fetching the connection without blocking the triggerer's event loop."""
        aget = getattr(self, "aget_connection", None)
        if aget is None:  # Airflow 3.0
            # Both the lookup and the masking of the token message the supervisor synchronously, which
            # 3.0's triggerer answers only off its event loop and from asgiref's thread (from the loop,
            # or `asyncio.to_thread`'s, the trigger fails or the triggerer dies).
            from asgiref.sync import sync_to_async

            return await sync_to_async(self.get_settings)()
        return self.settings_from_connection(await aget(self.logfire_conn_id))

    def get_conn(self) -> DbApiConnection:
        """A PEP 249 connection, its queries bounded by `query_window()` (for common-sql)."""
        from airflow_provider_logfire import dbapi
        from airflow_provider_logfire.client import LogfireClient

        start, end = self.query_window()
        options: dict[str, Any] = {"limit": self.limit}
        if start is not None:
            options.update(min_timestamp=start, max_timestamp=end)
        return dbapi.Connection(LogfireClient(self.get_settings()), **options)

    def query_window(self) -> tuple[datetime | None, datetime | None]:
        """The window `get_conn()` queries: the hook's own bounds, else the running task's window.

        Outside a task, with no bounds given, `(None, None)`: the DB-API default (the last day).
        """
        from airflow_provider_logfire._airflow.context import window_from_context

        context = _running_task_context()
        if context is None and self.min_timestamp is None and self.max_timestamp is None:
            return None, None
        window = window_from_context(
            context or {},
            min_timestamp=self.min_timestamp,
            max_timestamp=self.max_timestamp,
            window=self.window,
        )
        return window.start, window.end

    def get_client(self) -> LogfireClient:
        """A new sync client; close it (or use `with`) when done."""
        from airflow_provider_logfire.client import LogfireClient

        return LogfireClient(self.get_settings())

    async def get_async_client(self) -> AsyncLogfireClient:
        """A new async client, for triggers; close it with `await client.aclose()` or `async with`."""
        from airflow_provider_logfire.client import AsyncLogfireClient

        return AsyncLogfireClient(await self.aget_settings())

    def get_project(self, *, names: bool = True) -> LogfireProject:
        """The connection's project: its lineage namespace and its page in the Logfire web UI.

        With `names` (the default) the token's `read-token-info` is asked once per hook for the
        organization and project; if that fails, the failure is logged and the names stay unknown
        (the namespace is then `logfire://<host>`, and there is no UI link). `names=False` makes
        no request, for callers that first check whether a UI is known at all.
        """
        from airflow_provider_logfire.client import LogfireClient, LogfireError
        from airflow_provider_logfire.client.project import LogfireProject

        if self._project is not None and (self._project_named or not names):
            return self._project
        conn = self.get_connection(self.logfire_conn_id)
        settings = self.settings_from_connection(conn)
        info = None
        if names:
            try:
                with LogfireClient(settings) as client:
                    info = client.info()
            except LogfireError as exc:
                log.warning("Could not read the token's organization and project (%s)", exc)
        self._project = LogfireProject.of(
            settings, info, ui_url=ui_url_from_extra(self.logfire_conn_id, conn.extra_dejson)
        )
        self._project_named = names
        return self._project

    # -- queries (one request each; each opens and closes its own client) -------------------------

    def info(self) -> ReadTokenInfo:
        """Organisation and project names of the connection's read token."""
        with self.get_client() as client:
            return client.info()

    def query_json(self, sql: str, **query: Any) -> ColumnQueryResults:
        """Column-oriented JSON results. Keyword arguments as `LogfireClient.query_json`."""
        with self.get_client() as client:
            result = client.query_json(sql, **query)
        columns = result["columns"]
        report_read(self, sql, row_count=len(columns[0]["values"]) if columns else 0)
        return result

    def query_json_rows(self, sql: str, **query: Any) -> RowQueryResults:
        """Row-oriented JSON results. Keyword arguments as `LogfireClient.query_json_rows`."""
        with self.get_client() as client:
            result = client.query_json_rows(sql, **query)
        report_read(self, sql, row_count=len(result["rows"]))
        return result

    def query_arrow(self, sql: str, **query: Any) -> pa.Table:
        """Results as a `pyarrow.Table`."""
        with self.get_client() as client:
            table = client.query_arrow(sql, **query)
        report_read(self, sql, row_count=table.num_rows)
        return table

    def query_csv(self, sql: str, **query: Any) -> str:
        """Results as CSV text."""
        with self.get_client() as client:
            text = client.query_csv(sql, **query)
        report_read(self, sql)
        return text

    def iter_batches(self, sql: str, **query: Any) -> Iterator[pa.RecordBatch]:
        """Arrow record batches, yielded while the response still arrives."""
        rows = 0
        with self.get_client() as client:
            for batch in client.iter_batches(sql, **query):
                rows += batch.num_rows
                yield batch
        report_read(self, sql, row_count=rows)

    def get_df(
        self,
        sql: str | list[str],
        parameters: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        df_type: Literal["pandas", "polars"] = "pandas",
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Results as a pandas or polars DataFrame, built from Arrow so column types are kept.

        `parameters` are rendered into the SQL as safely escaped literals (as `dbapi` does). The
        window defaults to `query_window()` (the running task's) unless given here.
        """
        from airflow_provider_logfire.exceptions import (
            LogfireArgumentTypeError,
            LogfireConfigError,
            LogfireMissingExtraError,
        )

        if df_type not in ("pandas", "polars"):
            raise LogfireConfigError(f"df_type must be 'pandas' or 'polars', got {df_type!r}")
        if not isinstance(sql, str):
            raise LogfireArgumentTypeError("LogfireHook.get_df runs one SELECT statement; pass a string")
        if parameters is not None:
            from airflow_provider_logfire.dbapi import render_query

            sql = render_query(sql, parameters)
        if min_timestamp is None and max_timestamp is None:
            min_timestamp, max_timestamp = self.query_window()
            if min_timestamp is None:  # outside a task: the last day, as get_conn() queries
                from airflow_provider_logfire.dbapi import DEFAULT_MIN_AGE

                min_timestamp = datetime.now(dt_timezone.utc) - DEFAULT_MIN_AGE
        table = self.query_arrow(
            sql,
            min_timestamp=min_timestamp,
            max_timestamp=max_timestamp,
            limit=limit or self.limit,
            timezone=timezone,
            environment=environment,
        )
        if df_type == "polars":
            try:
                import polars
            except ImportError as exc:
                raise LogfireMissingExtraError(
                    "get_df(df_type='polars') needs polars: pip install 'airflow-provider-logfire[polars]'"
                ) from exc
            return polars.from_arrow(table)
        try:
            import pandas  # noqa: F401
        except ImportError as exc:
            raise LogfireMissingExtraError(
                "get_df(df_type='pandas') needs pandas: pip install 'airflow-provider-logfire[pandas]'"
            ) from exc
        return table.to_pandas(**kwargs)

    # -- the connection form ----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Called by the UI's Test button and `airflow connections test`: reads the token's project."""
        from airflow_provider_logfire.client import LogfireClient, LogfireError, RetryPolicy

        try:
            # A person is waiting on the Test button: one quick retry at most.
            settings = dataclasses.replace(
                self.get_settings(), retry=RetryPolicy(max_attempts=2, max_elapsed=10)
            )
            with LogfireClient(settings) as client:
                info = client.info()
        except LogfireError as exc:
            return False, str(exc)
        message = f"Connected to {info.get('organization_name', '?')}/{info.get('project_name', '?')}"
        # `airflow connections test` prints only "Connection success!"; the log shows which project.
        log.info("%s at %s", message, settings.resolved_base_url)
        return True, message

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """For Airflow 3.0/3.1, which read the form from the hook (3.2+ use the provider info)."""
        return {"hidden_fields": HIDDEN_FIELDS, "relabeling": RELABELING, "placeholders": PLACEHOLDERS}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """For Airflow 3.0/3.1: `CONN_FIELDS` as WTForms widgets (3.2+ read `conn-fields` directly).

        Labels, help texts, defaults and choices carry over; 3.1 without Flask-AppBuilder turns the
        widgets back into the same JSON-schema params (it stands in for these imports).
        """
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, StringField

        optional, any_of = wtforms_validators()

        widgets: dict[str, Any] = {}
        for name, field in CONN_FIELDS.items():
            schema = field["schema"]
            label, description = lazy_gettext(field["label"]), lazy_gettext(field["description"])
            if "boolean" in schema["type"]:
                widgets[name] = BooleanField(label, description=description, default=schema.get("default"))
                continue
            checks = [optional(), *([any_of(schema["enum"])] if "enum" in schema else [])]
            default = None if schema.get("default") is None else str(schema["default"])
            widgets[name] = StringField(
                label,
                validators=checks,
                description=description,
                default=default,
                widget=BS3TextFieldWidget(),
            )
        return widgets
