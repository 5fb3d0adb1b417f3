"""LogfireDataAvailableTrigger on its own: serialisation, and the check it runs from the triggerer."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from airflow_provider_logfire.core.availability import AvailabilityCheck
from airflow_provider_logfire.core.windows import TimeWindow
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server
from airflow_provider_logfire.triggers.data_available import LogfireDataAvailableTrigger

TOKEN = "pylf_v1_us_TrIgGeRtOkEn2"
END = datetime(2026, 11, 27, tzinfo=timezone.utc)
WINDOW = TimeWindow(END - timedelta(days=1), END)


@pytest.fixture(scope="module")
def server():
    engine = LocalEngine()
    engine.insert_arrow(
        "records",
        pa.table(
            {
                "start_timestamp": pa.array([END - timedelta(hours=2)] * 3, pa.timestamp("us", "UTC")),
                "message": ["a", "b", "c"],
                "deployment_environment": ["staging"] * 3,
            }
        ),
    )
    with run_local_server(engine, token=TOKEN) as running:
        yield running
    engine.close()


@pytest.fixture(autouse=True)
def connection(server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOGFIRE_DEFAULT",
        json.dumps({"conn_type": "logfire", "host": server.url, "password": TOKEN}),
    )


def first_event(trigger: LogfireDataAvailableTrigger, timeout: float = 5.0):
    async def run():
        async for event in trigger.run():
            return event.payload
        return None

    return asyncio.run(asyncio.wait_for(run(), timeout))


def trigger_for(**check) -> LogfireDataAvailableTrigger:
    return LogfireDataAvailableTrigger(
        logfire_conn_id="logfire_default",
        check=AvailabilityCheck(window=WINDOW, **check).to_dict(),
        poll_interval=0.2,
    )


def test_serialises_without_the_token_and_round_trips():
    trigger = trigger_for(min_rows=2, environment=("staging",))
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_logfire.triggers.data_available.LogfireDataAvailableTrigger"
    assert TOKEN not in json.dumps(kwargs)
    assert AvailabilityCheck.from_dict(kwargs["check"]) == AvailabilityCheck(
        window=WINDOW, min_rows=2, environment=("staging",)
    )


def test_fires_when_the_rows_are_there():
    assert first_event(trigger_for(min_rows=3))["status"] == "success"


def test_environment_filter_is_applied_when_deferred():
    assert first_event(trigger_for(environment=("staging",)))["status"] == "success"
    with pytest.raises(asyncio.TimeoutError):  # not the built-in TimeoutError on Python 3.10
        first_event(trigger_for(environment=("prod",)), timeout=1.5)


def test_bad_sql_ends_the_wait_with_the_servers_message():
    event = first_event(trigger_for(sql="SELECT nope FROM records"))
    assert event["status"] == "error"
    assert "No field named nope" in event["message"]
