"""Exports to S3 and GCS through Airflow's object storage, with the credentials of a connection.

Needs the provider of each store: `pip install "airflow-provider-logfire[amazon]"` for s3://,
`pip install "apache-airflow-providers-google"` (with gcsfs) for gs://.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Param, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

PARTITION = "records/date={{ data_interval_start | ds }}/records.parquet"


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={
        "s3_root": Param("s3://my-data-lake/logfire", type="string"),
        "gcs_root": Param("gs://my-data-lake/logfire", type="string"),
    },
    tags=["logfire", "docs"],
)
def logfire_to_object_storage():
    # --8<-- [start:s3]
    LogfireToFileTransfer(
        task_id="to_s3",
        destination="{{ params.s3_root }}/" + PARTITION,
        dest_conn_id="aws_default",  # an Amazon Web Services connection
        compression="zstd",
    )
    # --8<-- [end:s3]
    # --8<-- [start:gcs]
    LogfireToFileTransfer(
        task_id="to_gcs",
        destination="{{ params.gcs_root }}/" + PARTITION,
        dest_conn_id="google_cloud_default",  # a Google Cloud connection
        compression="zstd",
    )
    # --8<-- [end:gcs]


logfire_to_object_storage()
