"""DAGs for test_sensor.py: LogfireDataAvailableSensor waiting, deferring, failing and skipping.

Run by `dag.test()` in a subprocess. Connections: `logfire_default` (the server), `logfire_watch`
(the server behind a proxy that counts requests, for the sensor that must wait), `logfire_bad`
(a token the server refuses), `logfire_revoking` (a proxy that refuses the token from the second
request of each sensor on). Time-outs are short: in `dag.test()` a sensor that never succeeds
waits exactly that long.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor

#: The run's day has this many rows (40 of them errors), all inserted 10 minutes after the day.
DAY_ROWS = 600
ERROR_ROWS = 40
#: Short waits for sensors that are expected to time out.
GIVE_UP = {"poke_interval": 0.5, "timeout": 1.5}


@dag(
    dag_id="lf_sensors",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 0},
)
def sensors():
    # Deferrable, on a day that is empty when the run starts; the test loads it a few seconds in.
    LogfireDataAvailableSensor(
        task_id="wait_deferred",
        logfire_conn_id="logfire_watch",
        deferrable=True,
        poke_interval=1,
        timeout=120,
        min_rows=50,
        min_timestamp="2026-11-20T00:00:00Z",
        max_timestamp="2026-11-21T00:00:00Z",
    )

    # A refused token fails at once (or skips with soft_fail), in both modes.
    for mode in ("deferred", "poke"):
        LogfireDataAvailableSensor(
            task_id=f"bad_token_{mode}",
            logfire_conn_id="logfire_bad",
            deferrable=mode == "deferred",
            poke_interval=1,
            timeout=60,
        )
        LogfireDataAvailableSensor(
            task_id=f"bad_token_soft_{mode}",
            logfire_conn_id="logfire_bad",
            deferrable=mode == "deferred",
            soft_fail=True,
            poke_interval=1,
            timeout=60,
        )

    # The token is revoked while the sensor is deferred: the trigger reports it, the wait ends.
    for soft_fail in (False, True):
        LogfireDataAvailableSensor(
            task_id="revoked_while_deferred" + ("_soft" if soft_fail else ""),
            logfire_conn_id="logfire_revoking",
            deferrable=True,
            soft_fail=soft_fail,
            poke_interval=1,
            timeout=60,
            min_timestamp="2026-11-10T00:00:00Z",
            max_timestamp="2026-11-11T00:00:00Z",
        )

    # Poke mode: the count is exact to the window, so DAY_ROWS is enough and one more is not.
    LogfireDataAvailableSensor(task_id="poke_exact", deferrable=False, min_rows=DAY_ROWS, poke_interval=1)
    LogfireDataAvailableSensor(task_id="poke_one_short", deferrable=False, min_rows=DAY_ROWS + 1, **GIVE_UP)

    # where= narrows the rows counted.
    LogfireDataAvailableSensor(
        task_id="where_errors", deferrable=False, where="level >= 17", min_rows=ERROR_ROWS, poke_interval=1
    )
    LogfireDataAvailableSensor(
        task_id="where_absent",
        deferrable=False,
        where="service_name = 'no-such-service'",
        soft_fail=True,
        **GIVE_UP,
    )

    # A custom check: one value, truthy means ready (templated like everything else).
    LogfireDataAvailableSensor(
        task_id="custom_sql",
        deferrable=True,
        sql="SELECT count(*) >= {{ params.errors }} AS ready FROM records WHERE level >= 17",
        params={"errors": ERROR_ROWS},
        poke_interval=1,
    )
    LogfireDataAvailableSensor(
        task_id="custom_sql_false",
        deferrable=False,
        sql="SELECT count(*) > {{ params.errors }} AS ready FROM records WHERE level >= 17",
        params={"errors": ERROR_ROWS},
        **GIVE_UP,
    )

    # Watermark: rows were ingested 10 minutes after the day ended; settle 5 minutes yes, 30 no.
    LogfireDataAvailableSensor(
        task_id="watermark_settled",
        deferrable=False,
        watermark=True,
        settle=timedelta(minutes=5),
        poke_interval=1,
    )
    LogfireDataAvailableSensor(
        task_id="watermark_pending", deferrable=False, watermark=True, settle=timedelta(minutes=30), **GIVE_UP
    )


sensors()
