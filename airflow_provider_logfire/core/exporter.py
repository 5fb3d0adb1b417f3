"""Exporting a time window to files: the one entry point of the job, `export_window`.

    with LogfireClient.from_token(token) as client:
        summary = export_window(client, ExportPlan("SELECT * FROM records", window), "day.parquet")

The transfer, the docs, the benchmarks and the tests all call it. It checks the options and the
destination once, removes what a killed attempt left behind, runs the exact paging engine
(`core.paging`) into one file or a file set (`writers`), and returns an `ExportSummary`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.core.paging import ExportPlan, ExportStats, WindowExporter
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.exceptions import EmptyExportError

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_logfire.client import LogfireClient
    from airflow_provider_logfire.writers.formats import ResolvedFormat
    from airflow_provider_logfire.writers.layout import SetLayout
    from airflow_provider_logfire.writers.paths import Destination, Target
    from airflow_provider_logfire.writers.policies import IfExists
    from airflow_provider_logfire.writers.writer import ExportWriter

__all__ = [
    "ROW_GROUP_ROWS",
    "ExportPlan",
    "ExportSummary",
    "WindowExporter",
    "export_window",
]

log = logging.getLogger(__name__)

#: Parquet row group size for exports: one page. Larger groups would make the writer hold
#: several pieces' rows on top of those in flight; this keeps a 1,000,000-row export within
#: about 1.5x the peak memory of a 10,000-row one (see `make bench`).
ROW_GROUP_ROWS = MAX_LIMIT


@dataclass(frozen=True)
class ExportSummary:
    """What one `export_window` call did: small and JSON-friendly, so it is the transfer's XCom."""

    #: The files written, as shown to users (credentials scrubbed), in time order.
    files: tuple[str, ...]
    format: str
    compression: str
    rows: int
    requests: int
    bytes: int
    window: TimeWindow
    #: True when `if_exists="skip"` kept an existing destination: nothing was written.
    skipped: bool = False
    #: True when the window had no rows and `on_empty="skip"`: nothing was written.
    empty: bool = False
    #: For a file set: its root folder and its `_SUCCESS` manifest.
    root: str | None = None
    manifest: str | None = None
    #: The query's columns as `(name, Arrow type)`, for lineage; not part of the XCom.
    columns: tuple[tuple[str, str], ...] = ()

    def as_xcom(self) -> dict[str, Any]:
        """The documented XCom: `path` (the file, or a set's root), `files`, counts, the window."""
        summary: dict[str, Any] = {
            "path": self.root if self.root is not None else (self.files[0] if self.files else None),
            "files": list(self.files),
            "format": self.format,
            "rows": self.rows,
            "requests": self.requests,
            "bytes": self.bytes,
            "min_timestamp": self.window.start.isoformat(),
            "max_timestamp": self.window.end.isoformat(),
        }
        if self.manifest is not None:
            summary["manifest"] = self.manifest
        if self.skipped:
            summary["skipped"] = True
        if self.empty:
            summary["empty"] = True
        return summary


def export_window(
    client: LogfireClient,
    plan: ExportPlan,
    destination: Destination,
    *,
    format: str = "parquet",
    compression: str | None = None,
    if_exists: str = "replace",
    max_rows_per_file: int | None = None,
    partition_by: Sequence[str] | None = None,
    on_empty: str = "write",
    progress_interval: float = 10.0,
) -> ExportSummary:
    """Export every row of `plan` to `destination`, exactly, published only when complete.

    `destination` is a local path, a `file://` URL or a `UPath` (Airflow's `ObjectStoragePath`).
    `format`/`compression`/`if_exists` are those of `writers.open_export`. With `max_rows_per_file`,
    `partition_by` or a `{part}` in the file name the export is a file set (see
    `writers.file_set`), published as a unit with a `_SUCCESS` manifest. `on_empty` says what a
    window without rows gives: a file with the columns ("write"), nothing (`empty=True`, "skip"),
    or an `EmptyExportError` ("fail"). Temporary files left by a killed earlier attempt are removed
    first; with `if_exists="skip"` and an existing file or set nothing is fetched. Raises
    `LogfireConfigError` for bad options before any request is sent.
    """
    from airflow_provider_logfire.writers.formats import resolve_format
    from airflow_provider_logfire.writers.layout import SetLayout
    from airflow_provider_logfire.writers.paths import display_path, to_upath_or_path
    from airflow_provider_logfire.writers.policies import check_if_exists, check_on_empty

    resolved = resolve_format(format, compression)
    policy = check_if_exists(if_exists)
    check_on_empty(on_empty)
    target = to_upath_or_path(destination)
    layout = SetLayout.of(target.name, partition_by=partition_by, max_rows_per_file=max_rows_per_file)
    job = _ExportJob(client, plan, resolved, policy, on_empty, progress_interval)
    if layout.is_set:
        return job.to_set(target.parent, layout)
    return job.to_file(target, display_path(target))


class _ExportJob:
    """The steps `export_window` shares between one file and a file set."""

    def __init__(
        self,
        client: LogfireClient,
        plan: ExportPlan,
        resolved: ResolvedFormat,
        policy: IfExists,
        on_empty: str,
        progress_interval: float,
    ) -> None:
        self.client = client
        self.plan = plan
        self.resolved = resolved
        self.policy = policy
        self.on_empty = on_empty
        self.progress_interval = progress_interval
        #: The schema of the first batch fetched: the columns the summary reports.
        self.schema: pa.Schema | None = None

    def noting_schema(self, sink: Any) -> Any:
        """`sink`, remembering the schema of the first batch it is given."""

        def noted(batch: pa.RecordBatch) -> None:
            if self.schema is None:
                self.schema = batch.schema
            sink(batch)

        return noted

    def summary(self, files: tuple[str, ...], **counts: Any) -> ExportSummary:
        columns = tuple((f.name, str(f.type)) for f in self.schema) if self.schema is not None else ()
        return ExportSummary(
            files=files,
            format=self.resolved.name,
            compression=self.resolved.compression,
            window=self.plan.window,
            columns=columns,
            **{"rows": 0, "requests": 0, "bytes": 0, **counts},
        )

    def to_file(self, target: Target, shown: str) -> ExportSummary:
        from airflow_provider_logfire.writers.staging import remove_stale_temporaries
        from airflow_provider_logfire.writers.writer import check_destination, open_resolved

        for stale in remove_stale_temporaries(target):
            log.warning("Removed %s, left by an earlier attempt that was killed mid-export", stale)
        if not check_destination(target, self.policy):
            log.info("%s exists and if_exists='skip': nothing to do", shown)
            return self.summary((shown,), skipped=True)
        self._announce(shown)
        # The file is opened at the first row (or at the end, for an empty window that writes),
        # so that a skipped or failed empty export leaves nothing, not even a folder.
        held: list[pa.RecordBatch] = []
        writer: ExportWriter | None = None

        def sink(batch: pa.RecordBatch) -> None:
            nonlocal writer
            if writer is None:
                if not batch.num_rows:
                    held.append(batch)
                    return
                writer = open_resolved(
                    target, self.resolved, if_exists=self.policy, row_group_rows=ROW_GROUP_ROWS
                )
                for early in held:
                    writer.write_batch(early)
            writer.write_batch(batch)

        try:
            exporter = WindowExporter(self.client, self.plan, progress_interval=self.progress_interval)
            stats = exporter.run(self.noting_schema(sink))
            if writer is None:
                if self.on_empty != "write":
                    return self._empty(stats, (shown,))
                writer = open_resolved(
                    target, self.resolved, if_exists=self.policy, row_group_rows=ROW_GROUP_ROWS
                )
                for early in held:
                    writer.write_batch(early)
            result = writer.commit()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if result.skipped:  # the file appeared while exporting, and if_exists="skip" keeps it
            log.info("%s appeared during the export and if_exists='skip': kept it", shown)
            return self.summary((shown,), requests=stats.requests, skipped=True)
        self._report(result.rows, stats.requests, result.path, result.bytes)
        return self.summary((shown,), rows=result.rows, requests=stats.requests, bytes=result.bytes)

    def to_set(self, root: Target, layout: SetLayout) -> ExportSummary:
        from airflow_provider_logfire.writers.file_set import (
            FileSetWriter,
            check_set_destination,
            remove_stale_set_temporaries,
        )
        from airflow_provider_logfire.writers.paths import display_path

        shown = display_path(root)
        for stale in remove_stale_set_temporaries(root, layout):
            log.warning("Removed %s, left by an earlier attempt that was killed mid-export", stale)
        if not check_set_destination(root, self.policy):
            log.info("A file set exists at %s and if_exists='skip': nothing to do", shown)
            return self.summary((), skipped=True, root=shown)
        self._announce(
            f"{shown} (a file set: {layout.name_template}, partition_by={list(layout.partition_by)})"
        )
        writer = FileSetWriter(
            root,
            layout,
            self.resolved,
            time_column=self.plan.time_column,
            if_exists=self.policy,
            row_group_rows=ROW_GROUP_ROWS,
        )
        try:
            stats = WindowExporter(self.client, self.plan, progress_interval=self.progress_interval).run(
                self.noting_schema(writer.write_batch)
            )
            if not stats.rows and self.on_empty != "write":
                writer.abort()
                return self._empty(stats, (), root=shown)
            result = writer.commit(self._manifest())
        except BaseException:
            writer.abort()
            raise
        if result.skipped:
            return self.summary(
                (), requests=stats.requests, skipped=True, root=shown, manifest=result.manifest
            )
        self._report(result.rows, stats.requests, f"{len(result.files)} file(s) under {shown}", result.bytes)
        return self.summary(
            result.paths(),
            rows=result.rows,
            requests=stats.requests,
            bytes=result.bytes,
            root=shown,
            manifest=result.manifest,
        )

    def _manifest(self) -> dict[str, Any]:
        window = self.plan.window
        return {
            "window": {"min_timestamp": window.start.isoformat(), "max_timestamp": window.end.isoformat()},
            "time_column": self.plan.time_column,
            "sql": self.plan.sql,
        }

    def _empty(self, stats: ExportStats, files: tuple[str, ...], **extra: Any) -> ExportSummary:
        if self.on_empty == "fail":
            raise EmptyExportError(
                f"no rows in {self.plan.window} for the export query, and on_empty='fail'; "
                "nothing was written. Check the window and the SQL, or use on_empty='write' or 'skip'."
            )
        log.info("No rows in %s and on_empty='skip': nothing was written", self.plan.window)
        return self.summary((), requests=stats.requests, empty=True, **extra)

    def _announce(self, shown: str) -> None:
        log.info(
            "Exporting %s from Logfire to %s (%s):\n%s",
            self.plan.window,
            shown,
            self.resolved.name,
            self.plan.sql,
        )

    @staticmethod
    def _report(rows: int, requests: int, where: str, size: int) -> None:
        log.info(
            "Exported %s rows in %d request(s) to %s (%s bytes)", f"{rows:,}", requests, where, f"{size:,}"
        )
