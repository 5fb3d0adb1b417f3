"""One `except LogfireError` catches whatever the provider raises, each error still typed.

python docs/examples/one_exception_root.py
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

# --8<-- [start:catch]
from airflow_provider_logfire.core.windows import resolve_window
from airflow_provider_logfire.exceptions import DestinationExistsError, LogfireError, WindowError
from airflow_provider_logfire.writers import open_export

caught: list[LogfireError] = []
day = datetime(2026, 11, 27, tzinfo=timezone.utc)
try:  # Airflow 3's default cron timetable gives a zero-width interval: no window to read
    resolve_window(data_interval_start=day, data_interval_end=day, logical_date=day)
except LogfireError as exc:  # a WindowError, which is also a ValueError
    caught.append(exc)

existing = Path(tempfile.mkdtemp()) / "records.parquet"
existing.write_bytes(b"yesterday's export")
try:
    open_export(existing, if_exists="fail")
except LogfireError as exc:  # a DestinationExistsError, which is also a FileExistsError
    caught.append(exc)

print([type(exc).__name__ for exc in caught])  # ['WindowError', 'DestinationExistsError']
# --8<-- [end:catch]

window_error, exists_error = caught
assert isinstance(window_error, WindowError)
assert isinstance(window_error, ValueError)
assert isinstance(exists_error, DestinationExistsError)
assert isinstance(exists_error, FileExistsError)
assert existing.read_bytes() == b"yesterday's export"
