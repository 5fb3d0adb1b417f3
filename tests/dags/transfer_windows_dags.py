"""DAGs for test_transfer_windows.py: which window an export reads, where it goes, in what format.

Run by `dag.test()` in a subprocess; `LOGFIRE_TEST_OUT` is the directory local exports go to.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

from airflow.sdk import ObjectStoragePath, dag, task
from airflow.sdk.io import attach
from airflow.timetables.interval import CronDataIntervalTimetable
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

OUT = os.environ.get("LOGFIRE_TEST_OUT", tempfile.gettempdir())
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEFAULTS = {"retries": 0}
#: Airflow resolves object storage schemes through registered filesystems (providers register
#: s3://, gs://...). The in-memory one stands in for them: it lives in this process only.
attach("memory", fs=MemoryFileSystem())
MEMORY_DESTINATION = "memory://logfire-exports/{{ data_interval_start | ds }}/records.parquet"
#: (task id, format, compression, file suffix) of the format matrix; parquet/snappy is `to_local_path`.
FORMAT_MATRIX = (
    ("parquet_zstd", "parquet", "zstd", ".parquet"),
    ("csv_plain", "csv", None, ".csv"),
    ("csv_gzip", "csv", "gzip", ".csv.gz"),
    ("jsonl_plain", "jsonl", None, ".jsonl"),
    ("jsonl_zstd", "jsonl", "zstd", ".jsonl.zst"),
    ("arrow_plain", "arrow", None, ".arrow"),
    ("arrow_lz4", "arrow", "lz4", ".arrow"),
)


@dag(
    dag_id="lf_interval_daily",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START,
    catchup=False,
    default_args=DEFAULTS,
)
def interval_daily():
    LogfireToFileTransfer(
        task_id="to_local_path",
        destination=OUT + "/local/{{ data_interval_start | ds }}/records.parquet",
    )
    LogfireToFileTransfer(
        task_id="to_file_url",
        destination="file://" + OUT + "/url/{{ data_interval_start | ds }}/records.parquet",
    )
    to_memory = LogfireToFileTransfer(task_id="to_memory", destination=MEMORY_DESTINATION)

    @task
    def read_memory(summary: dict) -> dict:
        """Read the export back from the in-memory filesystem, which only this process can see."""
        import hashlib

        import pyarrow.parquet as pq

        path = ObjectStoragePath(summary["path"])
        with path.open("rb") as source:
            table = pq.read_table(source)
        leftovers = sorted(p.name for p in path.parent.iterdir() if p.name != path.name)
        ids = "\n".join(sorted(table.column("span_id").to_pylist()))
        return {
            "rows": table.num_rows,
            "ids_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            "start_type": str(table.schema.field("start_timestamp").type),
            "leftovers": leftovers,
        }

    read_memory(to_memory.output)

    for task_id, fmt, compression, suffix in FORMAT_MATRIX:
        LogfireToFileTransfer(
            task_id=task_id,
            destination=OUT + f"/formats/{task_id}/" + "{{ data_interval_start | ds }}" + suffix,
            format=fmt,
            compression=compression,
        )

    LogfireToFileTransfer(
        task_id="explicit_bounds",
        destination=OUT + "/explicit/{{ data_interval_start | ds }}.parquet",
        min_timestamp="{{ data_interval_start | ds }}T06:00:00Z",
        max_timestamp="{{ data_interval_start | ds }}T12:30:00Z",
    )


@dag(dag_id="lf_cron_daily", schedule="@daily", start_date=START, catchup=False, default_args=DEFAULTS)
def cron_daily():
    LogfireToFileTransfer(
        task_id="with_window",
        destination=OUT + "/cron/{{ macros.ds_add(ds, -1) }}/records.parquet",
        window=timedelta(days=1),
    )
    LogfireToFileTransfer(
        task_id="without_window",
        destination=OUT + "/cron_no_window/{{ ds }}/records.parquet",
    )
    LogfireToFileTransfer(
        task_id="explicit_bounds",
        destination=OUT + "/cron_explicit/{{ ds }}/records.parquet",
        min_timestamp="{{ macros.ds_add(ds, -1) }}T18:00:00+00:00",
        max_timestamp="{{ ds }}",
    )


interval_daily()
cron_daily()
