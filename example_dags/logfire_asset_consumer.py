"""Runs after each `logfire_asset_export` run and reads the files its asset event names.

Scheduled on the asset `logfire_error_exports`: the scheduler starts a run once an export has
emitted an event for it. Each event's `extra` says what was exported (`files`, `rows`,
`min_timestamp`, `max_timestamp`, `file_count`, and `files_truncated` when the list was capped),
so the task reads exactly those files. Several exports between two runs arrive as several events
of the same run.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Asset, dag, task

ERROR_EXPORTS = Asset("logfire_error_exports")


@dag(
    schedule=[ERROR_EXPORTS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "assets"],
)
def logfire_asset_consumer():
    @task
    def count_exported_rows(triggering_asset_events=None) -> dict:
        """Rows per exported file, checked against the row count the export announced."""
        import pyarrow.parquet as pq

        events = triggering_asset_events.get(ERROR_EXPORTS, []) if triggering_asset_events else []
        windows, files, announced, read = [], 0, 0, 0
        for event in events:
            extra = event.extra
            windows.append([extra["min_timestamp"], extra["max_timestamp"]])
            announced += extra["rows"]
            for path in extra["files"]:
                rows = pq.read_metadata(path).num_rows
                print(f"{path}: {rows:,} rows")
                read += rows
                files += 1
        print(f"{len(events)} export(s), {files} file(s), {read:,} rows (announced {announced:,})")
        return {
            "events": len(events),
            "files": files,
            "rows": read,
            "announced": announced,
            "windows": windows,
        }

    count_exported_rows()


logfire_asset_consumer()
