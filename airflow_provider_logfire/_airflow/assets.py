"""Asset events of a finished export: what a DAG scheduled on the transfer's outlets reads.

Airflow records one asset event per outlet `Asset` of a task that succeeds; the task fills the
event's `extra` through `context["outlet_events"][asset].extra`. A downstream DAG scheduled on the
asset reads it from `triggering_asset_events`. The extra is stored in Airflow's metadata database
and shown in the UI, so it stays small: the list of files is capped at `MAX_EVENT_FILES` (a file set
has its full list in its `_SUCCESS` manifest, named in the extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MAX_EVENT_FILES", "export_event_extra", "record_export_events"]

#: Most file paths an asset event lists; beyond it, `files_truncated` says so and `file_count`
#: and the manifest still give the whole set.
MAX_EVENT_FILES = 100
_FIELDS = ("path", "format", "rows", "bytes", "min_timestamp", "max_timestamp", "manifest", "skipped")


def export_event_extra(summary: Mapping[str, Any], *, max_files: int = MAX_EVENT_FILES) -> dict[str, Any]:
    """The asset event `extra` of an export, from its XCom summary (`ExportSummary.as_xcom()`).

    `{"path", "format", "rows", "bytes", "min_timestamp", "max_timestamp", "file_count", "files"}`,
    plus `"manifest"` for a file set, `"skipped"` when `if_exists="skip"` kept an existing export,
    and `"files_truncated": true` when only the first `max_files` files are listed.
    """
    extra = {key: summary[key] for key in _FIELDS if key in summary}
    files = list(summary.get("files", ()))
    extra["file_count"] = len(files)
    extra["files"] = files[:max_files]
    if len(files) > max_files:
        extra["files_truncated"] = True
    return extra


def record_export_events(
    context: Mapping[str, Any], outlets: Iterable[Any], summary: Mapping[str, Any]
) -> int:
    """Put the export's extra on the event of each outlet `Asset`; the number of events filled.

    Asset aliases are left alone: an alias event names its asset only at run time, which a
    task does with `outlet_events[alias].add(Asset(...), extra=...)` itself.
    """
    from airflow.sdk import Asset

    assets = [outlet for outlet in outlets if isinstance(outlet, Asset)]
    events = context.get("outlet_events")
    if not assets or events is None:  # None: `execute` called with a hand-made context
        return 0
    extra = export_event_extra(summary)
    for asset in assets:
        events[asset].extra.update(extra)
    return len(assets)
