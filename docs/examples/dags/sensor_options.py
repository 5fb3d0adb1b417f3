"""LogfireDataAvailableSensor's three kinds of check, poking or deferred to the triggerer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "docs"],
)
def logfire_sensor_options():
    # --8<-- [start:rows]
    # Rows: at least 1,000 checkout rows from prod in the run's window.
    LogfireDataAvailableSensor(
        task_id="checkout_has_traffic",
        where="service_name = 'checkout'",
        min_rows=1_000,
        environment="prod",
        mode="reschedule",  # between pokes, give the worker slot back
        poke_interval=5 * 60,
        timeout=6 * 60 * 60,
    )
    # --8<-- [end:rows]

    # --8<-- [start:watermark]
    # Watermark: ingestion has passed the window end by 15 minutes, so late spans are in too.
    LogfireDataAvailableSensor(
        task_id="window_settled",
        watermark=True,
        settle=timedelta(minutes=15),
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poke_interval=2 * 60,
        timeout=6 * 60 * 60,
    )
    # --8<-- [end:watermark]

    # --8<-- [start:sql]
    # Custom SQL: one value, truthy means ready. The window is sent as the API's bounds.
    LogfireDataAvailableSensor(
        task_id="request_metrics_landed",
        sql="SELECT count(*) >= 60 FROM metrics WHERE metric_name = 'http.server.requests'",
        deferrable=True,
        timeout=6 * 60 * 60,
    )
    # --8<-- [end:sql]

    # --8<-- [start:metrics]
    LogfireDataAvailableSensor(
        task_id="metrics_for_last_hour",
        table="metrics",  # counted on recorded_timestamp
        min_timestamp="{{ (data_interval_end - macros.timedelta(hours=1)).isoformat() }}",
        max_timestamp="{{ data_interval_end.isoformat() }}",
        timeout=60 * 60,
    )
    # --8<-- [end:metrics]


logfire_sensor_options()
