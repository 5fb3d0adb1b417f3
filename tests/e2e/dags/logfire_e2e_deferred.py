"""End-to-end only: wait in the triggerer for telemetry that does not exist yet, then export it.

The test triggers a run with the service name of the telemetry it is about to send and a window
around now; the sensor defers (its trigger polls from the triggerer), the test sends the
telemetry with the `logfire` SDK over OTLP, the trigger fires, and the export writes exactly the
rows of that service in the window to a JSON lines file that the test reads back.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Param, dag

from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={
        # Checked by Airflow before the run starts: the name goes into the sensor's SQL filter.
        "service": Param("e2e", type="string", pattern="^[a-z0-9-]+$"),
        "start": Param("2026-01-01T00:00:00+00:00", type="string", format="date-time"),
        "end": Param("2026-01-02T00:00:00+00:00", type="string", format="date-time"),
        "destination": Param("/tmp/logfire-e2e/telemetry.jsonl", type="string"),
    },
    tags=["logfire", "e2e"],
)
def logfire_e2e_deferred():
    wait = LogfireDataAvailableSensor(
        task_id="wait_for_telemetry",
        deferrable=True,
        poke_interval=2,
        timeout=300,
        min_timestamp="{{ params.start }}",
        max_timestamp="{{ params.end }}",
        where="service_name = '{{ params.service }}'",
    )
    export = LogfireToFileTransfer(
        task_id="export_telemetry",
        sql="SELECT * FROM records WHERE service_name = %(service)s",
        parameters={"service": "{{ params.service }}"},
        min_timestamp="{{ params.start }}",
        max_timestamp="{{ params.end }}",
        destination="{{ params.destination }}",
        format="jsonl",
    )
    wait >> export


logfire_e2e_deferred()
