"""LogfireQueryOperator: run templated SQL over the run's time window, return the result as XCom."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow_provider_logfire._airflow.compat import AirflowException, BaseOperator
from airflow_provider_logfire._airflow.links import LogfireLink
from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.exceptions import LogfireConfigError

if TYPE_CHECKING:
    from airflow.sdk import Context

OutputFormat = Literal["rows", "columns", "csv"]
OUTPUT_FORMATS = ("rows", "columns", "csv")


class LogfireQueryOperator(BaseOperator):
    """Run a SQL query against Logfire for the run's time window and return the result.

    The window is the run's data interval unless `min_timestamp`/`max_timestamp` or `window` say
    otherwise (see the time windows guide). The result is pushed to XCom, so keep it small: for
    more than one page (10,000 rows), use `LogfireToFileTransfer`.

    :param sql: SQL over `records`/`metrics`, inline or a path ending in `.sql` (templated).
    :param parameters: Values for `%(name)s` placeholders in `sql`, bound as SQL literals with the
        DB-API module's escaping (templated). With parameters, write `%%` for a literal `%`.
    :param logfire_conn_id: Connection of type `logfire` holding the read token.
    :param min_timestamp: Start of the window (templated; ISO 8601 or datetime). Default: the run's.
    :param max_timestamp: End of the window, exclusive (templated). Default: the run's.
    :param window: Window length ending at the run's interval end or logical date; for timetables
        whose intervals are zero-width (Airflow 3's default for cron schedules).
    :param limit: Most rows to return, 1..10,000 (default 10,000).
    :param environment: Deployment environment name(s) to restrict to: a list or a comma-separated
        string (v2 API; templated). `[""]` means rows with no environment set.
    :param timezone: Time zone the query runs in, e.g. "Europe/Paris" (v2 API).
    :param output_format: "rows" (list of dicts, default), "columns" (dict of column → values) or
        "csv" (text). (Not `output`: that name is Airflow's XComArg of every operator.)
    :param fail_on_truncation: Fail instead of warning when the result fills `limit` (may be cut).
    :param exact_window: Read exactly `[min_timestamp, max_timestamp)` whatever the server's bound
        inclusivity (default True): the query reads `records`/`records_all`/`metrics` through CTEs
        of the same names that keep only the window's rows (`core.window_sql`), and the API bounds
        are padded. `WITH RECURSIVE` queries are sent as written (with a warning): DataFusion
        cannot shadow a table there. False sends every query as written with the window as API
        bounds only, for a query the prefix cannot fit (one that defines its own CTE named
        `records` or `metrics`).
    """

    template_fields: Sequence[str] = (
        "sql",
        "parameters",
        "min_timestamp",
        "max_timestamp",
        "environment",
        "timezone",
        "logfire_conn_id",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "parameters": "json"}
    ui_color = "#f5e1fd"
    #: "Logfire": the project's live view over the task's window (see the lineage and links guide).
    operator_extra_links = (LogfireLink(),)

    def __init__(
        self,
        *,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        logfire_conn_id: str = "logfire_default",
        min_timestamp: str | datetime | None = None,
        max_timestamp: str | datetime | None = None,
        window: timedelta | None = None,
        limit: int = MAX_LIMIT,
        environment: str | Sequence[str] | None = None,
        timezone: str | None = None,
        output_format: OutputFormat = "rows",
        fail_on_truncation: bool = False,
        exact_window: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if output_format not in OUTPUT_FORMATS:
            raise LogfireConfigError(
                f"output_format must be one of {', '.join(OUTPUT_FORMATS)}; got {output_format!r}"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise LogfireConfigError(
                f"limit must be an integer from 1 to {MAX_LIMIT:,}, got {limit!r}; "
                "to export more rows, use LogfireToFileTransfer"
            )
        self.sql = sql
        self.parameters = parameters
        self.logfire_conn_id = logfire_conn_id
        self.min_timestamp = min_timestamp
        self.max_timestamp = max_timestamp
        self.window = window
        self.limit = limit
        self.environment = environment
        self.timezone = timezone
        self.output_format = output_format
        self.fail_on_truncation = fail_on_truncation
        self.exact_window = exact_window

    def execute(self, context: Context) -> Any:
        from airflow_provider_logfire._airflow.failures import failures_that_retries_cannot_fix

        with failures_that_retries_cannot_fix():
            return self._query(context)

    def _query(self, context: Context) -> Any:
        from airflow_provider_logfire._airflow.context import window_from_context
        from airflow_provider_logfire._airflow.lineage import RunFacts, remember_run
        from airflow_provider_logfire._airflow.links import persist_logfire_link
        from airflow_provider_logfire._airflow.parameters import bound_sql
        from airflow_provider_logfire.client.settings import parse_environments
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        sql = bound_sql(self.sql, self.parameters)
        window = window_from_context(
            context, min_timestamp=self.min_timestamp, max_timestamp=self.max_timestamp, window=self.window
        )
        low, high = window.start, window.end
        if self.exact_window:
            from airflow_provider_logfire.core.window_sql import exact_window_request

            sql, low, high, unrestricted = exact_window_request(sql, window)
            if unrestricted:
                self.log.warning(
                    "The SQL is not restricted to the window (%s): the API bounds alone decide, "
                    "which is exact only if the server's bounds are half-open.",
                    unrestricted,
                )
        self.log.info("Querying Logfire for %s:\n%s", window, sql)
        query = {
            "min_timestamp": low,
            "max_timestamp": high,
            "limit": self.limit,
            "environment": parse_environments(self.environment),
            "timezone": self.timezone,
        }
        hook = LogfireHook(logfire_conn_id=self.logfire_conn_id)
        persist_logfire_link(context, hook, window, query["environment"])

        def remember(rows: int) -> None:
            facts = RunFacts(window, sql, query["environment"], self.timezone, rows=rows, hook=hook)
            remember_run(self, facts)

        if self.output_format == "csv":
            text = hook.query_csv(sql, **query)
            # Count records, not lines: quoted values (stack traces) hold newlines.
            rows = max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)
            remember(rows)
            self._check_truncation(rows)
            return text
        result = hook.query_json_rows(sql, **query)
        remember(len(result["rows"]))
        self._check_truncation(len(result["rows"]))
        self.log.info("Logfire returned %d row(s)", len(result["rows"]))
        if self.output_format == "columns":
            names = [c["name"] for c in result["columns"]]
            return {name: [row.get(name) for row in result["rows"]] for name in names}
        return result["rows"]

    def get_openlineage_facets_on_start(self) -> Any:
        """OpenLineage START: the Logfire tables the SQL reads, the SQL, the window."""
        from airflow_provider_logfire._airflow.lineage import query_lineage
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        return query_lineage(self, LogfireHook(logfire_conn_id=self.logfire_conn_id))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage COMPLETE: as START, with the result's row count."""
        from airflow_provider_logfire._airflow.lineage import query_lineage
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        return query_lineage(self, LogfireHook(logfire_conn_id=self.logfire_conn_id), complete=True)

    def _check_truncation(self, rows: int) -> None:
        if rows < self.limit:
            return
        message = (
            f"The query returned {rows:,} rows, which is its limit ({self.limit:,}): the result may be "
            "cut off. Narrow the query or the window, raise `limit` (at most 10,000), or export the "
            "whole window with LogfireToFileTransfer, which pages past the limit exactly."
        )
        if self.fail_on_truncation:
            raise AirflowException(message)
        self.log.warning(message)
