"""Time windows on Airflow 3: the default cron timetable, explicit bounds, and runs without a date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag

from airflow_provider_logfire.operators.query import LogfireQueryOperator

# --8<-- [start:window]
COUNT = "SELECT count(*) AS n, min(start_timestamp) AS first, max(start_timestamp) AS last FROM records"


@dag(schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False)
def logfire_window_length():
    # schedule="@daily" is a CronTriggerTimetable: data_interval_start == data_interval_end.
    # window= gives the run a real window: the day ending at its data interval end.
    LogfireQueryOperator(task_id="count_day", sql=COUNT, window=timedelta(days=1))


# --8<-- [end:window]


# --8<-- [start:explicit]
@dag(schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False)
def logfire_window_explicit():
    # The same day, written out: from the previous midnight (in UTC) to this run's logical date.
    LogfireQueryOperator(
        task_id="count_day",
        sql=COUNT,
        min_timestamp="{{ (logical_date - macros.timedelta(days=1)).isoformat() }}",
        max_timestamp="{{ logical_date.isoformat() }}",
    )


# --8<-- [end:explicit]


# --8<-- [start:manual]
@dag(schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False)
def logfire_window_manual():
    # Triggered by hand (or by an asset) without a logical date: no data interval at all.
    # window= reads the six hours before the run's run_after instead.
    LogfireQueryOperator(task_id="count_recent", sql=COUNT, window=timedelta(hours=6))


# --8<-- [end:manual]


logfire_window_length()
logfire_window_explicit()
logfire_window_manual()
