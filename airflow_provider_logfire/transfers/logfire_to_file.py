"""LogfireToFileTransfer: export the run's time window to a file or a file set, exactly and atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_logfire._airflow.compat import BaseOperator
from airflow_provider_logfire._airflow.links import LogfireLink
from airflow_provider_logfire.exceptions import LogfireConfigError

if TYPE_CHECKING:
    from airflow.sdk import Context


def _has_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


class LogfireToFileTransfer(BaseOperator):
    """Export every row of a query over the run's time window to one file, or to a file set.

    The window is cut into pieces that each stay under the API's 10,000-row page cap, planned from
    one count-per-bucket query and fetched concurrently; the SQL of each piece keeps exact edges,
    so no row is lost or doubled at a boundary. Files are written to temporary siblings and moved
    into place only when complete; a file set (`max_rows_per_file`, `partition_by`) is published
    as a unit, with a `_SUCCESS` manifest written last. Returns `ExportSummary.as_xcom()` as XCom:
    `{"path", "files", "format", "rows", "requests", "bytes", "min_timestamp", "max_timestamp"}`
    (plus `"manifest"` for a set). Each outlet `Asset` gets an asset event whose `extra` holds the
    exported files, rows and window (see `_airflow.assets.export_event_extra`), so a DAG scheduled
    on that asset runs after each export and knows what to read.

    :param destination: Local path, `file://` URL, or an object storage URL such as
        `s3://bucket/logfire/date={{ ds }}/records.parquet` (templated). For a file set, the file
        name may carry `{part}` (required with `max_rows_per_file`), e.g. `records-{part}.parquet`.
    :param sql: Query whose rows to export; must return `time_column` (templated, `.sql` allowed).
        Default: every column of `records`.
    :param parameters: Values for `%(name)s` placeholders in `sql`, bound as SQL literals with the
        DB-API module's escaping before the export is planned, so the count query and every piece
        run the same SQL (templated). With parameters, write `%%` for a literal `%`.
    :param format: "parquet" (default), "csv", "jsonl" or "arrow" (templated).
    :param compression: Per format: parquet snappy (default)/zstd/gzip/lz4/brotli/none;
        csv and jsonl none (default)/gzip/zstd; arrow none (default)/lz4/zstd (templated).
    :param logfire_conn_id: Connection of type `logfire` holding the read token.
    :param dest_conn_id: Airflow connection for the object storage destination (e.g. `aws_default`).
    :param min_timestamp: Start of the window (templated). Default: the run's data interval.
    :param max_timestamp: End of the window, exclusive (templated).
    :param window: Window length ending at the run's interval end / logical date, for timetables
        with zero-width intervals.
    :param time_column: Column the window and the pieces are cut on: `start_timestamp` for
        `records`, `recorded_timestamp` for `metrics`.
    :param environment: Deployment environment name(s) to restrict to (v2 API; templated).
    :param if_exists: "replace" (default), "skip" (do nothing if the file, or the set's
        `_SUCCESS`, exists) or "fail".
    :param max_concurrency: Pieces fetched at the same time (default 4).
    :param max_rows_per_file: Write files of at most this many rows, numbered `{part}` from 00000
        in time order (per partition). Default: no limit.
    :param partition_by: Hive-style partition folders between the destination's folder and its
        file name: `"day"`, `"hour"`, `"minute"` of the time column (UTC) and/or column names of the
        query (which then leave the files, as Hive does). Default: none.
    :param on_empty: What a window without rows gives: "write" (default; a file with the query's
        columns), "skip" (nothing written, the task is skipped) or "fail".
    """

    template_fields: Sequence[str] = (
        "sql",
        "parameters",
        "destination",
        "min_timestamp",
        "max_timestamp",
        "environment",
        "logfire_conn_id",
        "dest_conn_id",
        "format",
        "compression",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "parameters": "json"}
    ui_color = "#f5e1fd"
    #: "Logfire": the project's live view over the task's window (see the lineage and links guide).
    operator_extra_links = (LogfireLink(),)

    def __init__(
        self,
        *,
        destination: str,
        sql: str = "SELECT * FROM records",
        parameters: Mapping[str, Any] | None = None,
        format: str = "parquet",
        compression: str | None = None,
        logfire_conn_id: str = "logfire_default",
        dest_conn_id: str | None = None,
        min_timestamp: str | datetime | None = None,
        max_timestamp: str | datetime | None = None,
        window: timedelta | None = None,
        time_column: str = "start_timestamp",
        environment: str | Sequence[str] | None = None,
        if_exists: str = "replace",
        max_concurrency: int = 4,
        max_rows_per_file: int | None = None,
        partition_by: Sequence[str] | None = None,
        on_empty: str = "write",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Pure tables (no pyarrow): a bad option fails at DAG parse time, unless a template decides
        # it; `execute` checks everything again once it is rendered.
        from airflow_provider_logfire.writers.formats import resolve_format
        from airflow_provider_logfire.writers.layout import check_layout, check_partition_keys
        from airflow_provider_logfire.writers.policies import check_if_exists, check_on_empty

        if not (_has_template(format) or _has_template(compression)):
            resolve_format(format, compression)
        check_if_exists(if_exists)
        check_on_empty(on_empty)
        if _has_template(str(destination).rpartition("/")[2]):
            check_partition_keys(partition_by)
        else:
            check_layout(str(destination), partition_by=partition_by, max_rows_per_file=max_rows_per_file)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise LogfireConfigError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
        self.destination = destination
        self.sql = sql
        self.parameters = parameters
        self.format = format
        self.compression = compression
        self.logfire_conn_id = logfire_conn_id
        self.dest_conn_id = dest_conn_id
        self.min_timestamp = min_timestamp
        self.max_timestamp = max_timestamp
        self.window = window
        self.time_column = time_column
        self.environment = environment
        self.if_exists = if_exists
        self.max_concurrency = max_concurrency
        self.max_rows_per_file = max_rows_per_file
        self.partition_by = list(partition_by) if partition_by is not None else None
        self.on_empty = on_empty

    def resolve_destination(self) -> Any:
        """A local `Path`, or an `ObjectStoragePath` bound to `dest_conn_id` for any other scheme."""
        from airflow_provider_logfire.writers.paths import is_local, to_upath_or_path

        target = to_upath_or_path(self.destination)
        if is_local(target):
            return target
        try:
            from airflow.sdk import ObjectStoragePath
        except ImportError:  # pragma: no cover - Airflow 3.0
            from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]
        return ObjectStoragePath(self.destination, conn_id=self.dest_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_logfire._airflow.failures import failures_that_retries_cannot_fix

        with failures_that_retries_cannot_fix():
            return self._export(context)

    def _export(self, context: Context) -> dict[str, Any]:
        from airflow_provider_logfire._airflow.context import window_from_context
        from airflow_provider_logfire._airflow.lineage import RunFacts, remember_run
        from airflow_provider_logfire._airflow.links import persist_logfire_link
        from airflow_provider_logfire._airflow.parameters import bound_sql
        from airflow_provider_logfire.client.settings import parse_environments
        from airflow_provider_logfire.core.exporter import ExportPlan, export_window
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        plan = ExportPlan(
            sql=bound_sql(self.sql, self.parameters),
            window=window_from_context(
                context,
                min_timestamp=self.min_timestamp,
                max_timestamp=self.max_timestamp,
                window=self.window,
            ),
            time_column=self.time_column,
            environment=parse_environments(self.environment),
            max_concurrency=self.max_concurrency,
        )
        hook = LogfireHook(logfire_conn_id=self.logfire_conn_id)
        persist_logfire_link(context, hook, plan.window, plan.environment)
        with hook.get_client() as client:
            summary = export_window(
                client,
                plan,
                self.resolve_destination(),
                format=self.format,
                compression=self.compression,
                if_exists=self.if_exists,
                max_rows_per_file=self.max_rows_per_file,
                partition_by=self.partition_by,
                on_empty=self.on_empty,
            )
        result = summary.as_xcom()
        facts = RunFacts(plan.window, plan.sql, plan.environment, summary=result, hook=hook)
        remember_run(self, facts, columns=summary.columns)
        if summary.empty:
            from airflow_provider_logfire._airflow.compat import AirflowSkipException

            raise AirflowSkipException(f"No rows in {plan.window} and on_empty='skip': nothing was written")
        from airflow_provider_logfire._airflow.assets import record_export_events

        record_export_events(context, self.outlets, result)
        return result

    def get_openlineage_facets_on_start(self) -> Any:
        """OpenLineage START: the Logfire tables the SQL reads, the destination, the SQL, the window."""
        return self._lineage(complete=False)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage COMPLETE: as START, with the exported columns and rows, bytes and files."""
        return self._lineage(complete=True)

    def _lineage(self, *, complete: bool) -> Any:
        from airflow_provider_logfire._airflow.lineage import export_lineage
        from airflow_provider_logfire.hooks.logfire import LogfireHook
        from airflow_provider_logfire.writers.layout import SetLayout

        destination = str(self.destination)
        layout = SetLayout.of(
            destination.rpartition("/")[2],
            partition_by=self.partition_by,
            max_rows_per_file=self.max_rows_per_file,
        )
        hook = LogfireHook(logfire_conn_id=self.logfire_conn_id)
        return export_lineage(self, hook, destination, is_set=layout.is_set, complete=complete)
