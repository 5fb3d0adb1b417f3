"""LogfireDataAvailableSensor: wait until the run's window of data has landed in Logfire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_logfire._airflow.compat import (
    AirflowFailException,
    AirflowSkipException,
    BaseSensorOperator,
    default_deferrable,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_logfire.core.availability import AvailabilityCheck


class LogfireDataAvailableSensor(BaseSensorOperator):
    """Wait until data for the run's time window is in Logfire, then succeed.

    By default: at least `min_rows` rows of `table` in the window (optionally filtered by
    `where`). With `watermark=True`: ingestion has moved past the window end by `settle`, so
    late-arriving spans for the window are in too. Or give `sql` returning one truthy value.

    Rate limits, 5xx and network errors only mean "not yet"; a refused token or bad SQL fails the
    sensor at once, without retries, with the server's message (or skips it with `soft_fail=True`).

    :param logfire_conn_id: Connection of type `logfire` holding the read token.
    :param table: "records" (default) or "metrics".
    :param where: Extra SQL condition on the rows counted (templated).
    :param sql: A custom check returning one value; truthy means ready (templated, `.sql` allowed).
    :param min_rows: Rows needed in the window (default 1).
    :param watermark: Wait for ingestion to pass `window end + settle` instead of counting rows.
    :param settle: Extra delay after the window end for `watermark` (default 5 minutes).
    :param min_timestamp: Start of the window (templated). Default: the run's data interval.
    :param max_timestamp: End of the window, exclusive (templated).
    :param window: Window length ending at the run's interval end / logical date.
    :param environment: Deployment environment name(s) to count in: a list or comma-separated
        string (v2 API; templated).
    :param deferrable: Wait in the triggerer instead of a worker slot
        (default: `[operators] default_deferrable`).
    :param poke_interval: Seconds between checks (default 60).
    """

    template_fields: Sequence[str] = (
        "sql",
        "where",
        "min_timestamp",
        "max_timestamp",
        "environment",
        "logfire_conn_id",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "where": "sql"}
    ui_color = "#f5e1fd"

    def __init__(
        self,
        *,
        logfire_conn_id: str = "logfire_default",
        table: str = "records",
        where: str | None = None,
        sql: str | None = None,
        min_rows: int = 1,
        watermark: bool = False,
        settle: timedelta = timedelta(minutes=5),
        min_timestamp: str | datetime | None = None,
        max_timestamp: str | datetime | None = None,
        window: timedelta | None = None,
        environment: str | Sequence[str] | None = None,
        deferrable: bool | None = None,
        poke_interval: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.logfire_conn_id = logfire_conn_id
        self.table = table
        self.where = where
        self.sql = sql
        self.min_rows = min_rows
        self.watermark = watermark
        self.settle = settle
        self.min_timestamp = min_timestamp
        self.max_timestamp = max_timestamp
        self.window = window
        self.environment = environment
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    def build_check(self, context: Context) -> AvailabilityCheck:
        from airflow_provider_logfire._airflow.context import window_from_context
        from airflow_provider_logfire.client.settings import parse_environments
        from airflow_provider_logfire.core.availability import AvailabilityCheck

        window = window_from_context(
            context, min_timestamp=self.min_timestamp, max_timestamp=self.max_timestamp, window=self.window
        )
        return AvailabilityCheck(
            window=window,
            table=self.table,
            where=self.where or None,
            sql=self.sql or None,
            min_rows=self.min_rows,
            watermark=self.watermark,
            settle=self.settle,
            environment=parse_environments(self.environment),
        )

    def poke(self, context: Context) -> bool:
        from airflow_provider_logfire.client import LogfireError
        from airflow_provider_logfire.client.retry import is_retryable
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        check = self.build_check(context)
        query = check.query()
        try:
            result = LogfireHook(logfire_conn_id=self.logfire_conn_id).query_json_rows(
                query.sql, **query.as_kwargs()
            )
        except LogfireError as exc:
            if is_retryable(exc):
                self.log.warning("Logfire is unavailable for now (%s); checking again later", exc)
                return False
            # Permanent (token, SQL): retrying cannot help. This is also the exception that
            # BaseSensorOperator turns into a skip under soft_fail, so say why here too.
            self.log.error("The Logfire data check cannot succeed: %s", exc)
            raise AirflowFailException(str(exc)) from exc
        done, description = check.evaluate(result["rows"])
        self.log.info("Logfire data check: %s", description)
        return done

    def execute(self, context: Context) -> None:
        if not self.deferrable:
            super().execute(context)
            return
        try:
            if self.poke(context):
                return
        except AirflowFailException as exc:
            # What BaseSensorOperator.execute does in poke mode, which this path does not go through.
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(f"Skipping: {exc}") from exc
            raise
        from airflow_provider_logfire.triggers.data_available import LogfireDataAvailableTrigger

        self.defer(
            trigger=LogfireDataAvailableTrigger(
                logfire_conn_id=self.logfire_conn_id,
                check=self.build_check(context).to_dict(),
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        if not event or event.get("status") != "success":
            reason = (event or {}).get("message", "no event from the trigger")
            message = f"Waiting for Logfire data failed: {reason}"
            self.log.error("%s", message)  # soft_fail turns this into a skip that would not say why
            raise AirflowFailException(message)
        self.log.info("Logfire data is available: %s", event.get("message"))
