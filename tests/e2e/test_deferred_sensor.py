"""A deferrable sensor waits in the real triggerer, is woken by telemetry sent with the `logfire`
SDK, and the export that follows holds exactly that telemetry.

`dag.test()` runs a trigger inline; here the sensor's first poke (in a LocalExecutor worker) finds
nothing, it defers, and the API shows the task `deferred` with its trigger assigned to the running
triggerer. Only then does the test send telemetry, from a separate process with the official SDK
over OTLP/HTTP into the local server; the trigger's next poll finds it and the export runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.e2e.deployment import READ_TOKEN, Deployment

DAG_ID = "logfire_e2e_deferred"
SENSOR = "wait_for_telemetry"
TRIGGER = "airflow_provider_logfire.triggers.data_available.LogfireDataAvailableTrigger"
EVENTS = 4

#: Run with the deployment's Python: configure the SDK for the local server, send one span with
#: EVENTS logs inside it, flush, and print what was sent.
SDK_SCRIPT = r"""
import json, os, sys
import logfire

logfire.configure(
    token=os.environ["E2E_WRITE_TOKEN"],
    send_to_logfire=True,
    console=False,
    service_name=os.environ["E2E_SERVICE"],
    advanced=logfire.AdvancedOptions(base_url=os.environ["E2E_LOGFIRE_URL"]),
    data_dir=sys.argv[1],
    inspect_arguments=False,
    metrics=False,
)
events = int(os.environ["E2E_EVENTS"])
with logfire.span("e2e batch {batch}", batch=os.environ["E2E_SERVICE"]):
    for seq in range(events):
        logfire.info("e2e event {seq}", seq=seq, parity="even" if seq % 2 == 0 else "odd")
logfire.force_flush()
logfire.shutdown()
sent = [{"message": "e2e batch " + os.environ["E2E_SERVICE"], "kind": "span"}]
sent += [{"message": f"e2e event {seq}", "kind": "log", "seq": seq} for seq in range(events)]
print(json.dumps(sent))
"""


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _sensor(api, run_id: str) -> dict[str, Any]:
    return api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{SENSOR}")


def send_telemetry(deployment: Deployment, service: str) -> list[dict[str, Any]]:
    work = deployment.out / "sdk"
    work.mkdir(exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LOGFIRE_", "OTEL_"))},
        "E2E_WRITE_TOKEN": READ_TOKEN,  # the local server takes its one token for writes too
        "E2E_LOGFIRE_URL": deployment.logfire_url,
        "E2E_SERVICE": service,
        "E2E_EVENTS": str(EVENTS),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, str(work / "logfire-data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (work / "sdk.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_deferred_sensor_wakes_on_sdk_telemetry_and_exports_exactly_it(deployment: Deployment) -> None:
    api = deployment.api
    assert api is not None
    service = f"e2e-{uuid.uuid4().hex[:12]}"
    now = datetime.now(timezone.utc)
    destination = deployment.export_root / "deferred" / f"{service}.jsonl"
    deployment.services.wait_for(
        f"{DAG_ID} to be parsed", lambda: any(d["dag_id"] == DAG_ID for d in api.dags()), timeout=240
    )
    api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
    conf = {
        "service": service,
        "start": _iso(now - timedelta(minutes=10)),
        "end": _iso(now + timedelta(minutes=30)),
        "destination": str(destination),
    }
    run_id = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]

    def deferred_in_triggerer() -> dict[str, Any] | None:
        ti = _sensor(api, run_id)
        if ti["state"] in ("failed", "success", "skipped", "up_for_retry"):
            raise AssertionError(
                f"{SENSOR} ended {ti['state']} before any telemetry was sent:\n"
                f"{deployment.task_logs(DAG_ID, run_id)}"
            )
        triggered = ti["state"] == "deferred" and ti.get("trigger") and ti.get("triggerer_job")
        return ti if triggered else None

    ti = deployment.services.wait_for(
        f"{SENSOR} to be deferred and its trigger taken by the triggerer",
        deferred_in_triggerer,
        timeout=240,
        interval=1,
    )
    assert ti["trigger"]["classpath"] == TRIGGER, ti["trigger"]
    assert ti["triggerer_job"]["job_type"] == "TriggererJob", ti["triggerer_job"]
    assert ti["triggerer_job"]["state"] == "running", ti["triggerer_job"]
    assert READ_TOKEN not in json.dumps(ti), "the read token is in the task instance's API view"

    # Several polls of the trigger (every 2 s) find nothing: it waits, it does not give up.
    time.sleep(6)
    assert _sensor(api, run_id)["state"] == "deferred"

    sent = send_telemetry(deployment, service)

    def run_finished() -> dict[str, Any] | None:
        run = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    run = deployment.services.wait_for(f"{DAG_ID} to finish", run_finished, timeout=180, interval=1)
    logs = deployment.task_logs(DAG_ID, run_id)
    assert run["state"] == "success", logs
    assert READ_TOKEN not in logs
    assert "Logfire data is available" in logs, logs  # the sensor resumed from the trigger's event

    rows = [json.loads(line) for line in destination.read_text().splitlines() if line.strip()]
    assert len(rows) == len(sent), (sent, rows)
    assert {r["service_name"] for r in rows} == {service}
    by_message = {r["message"]: r for r in rows}
    assert set(by_message) == {s["message"] for s in sent}
    for item in sent:
        row = by_message[item["message"]]
        assert row["kind"] == item["kind"], row
        if item["kind"] == "log":
            attributes = row["attributes"]
            attributes = json.loads(attributes) if isinstance(attributes, str) else attributes
            assert attributes["seq"] == item["seq"], row
            assert attributes["parity"] == ("even" if item["seq"] % 2 == 0 else "odd"), row
            assert row["level"] == 9, row  # info
    summary = api.xcom(DAG_ID, run_id, "export_telemetry")
    assert summary["rows"] == len(sent), summary
    print(f"\nsent {len(sent)} records with the logfire SDK; exported {summary['rows']} to {destination}")


pytestmark = pytest.mark.timeout(600)
