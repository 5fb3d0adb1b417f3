"""The example DAGs of a deployment: found once parsed, unpaused, and what run each should get.

Started by a session fixture as soon as the deployment is up, so that the scheduler works
through them while the other end-to-end tests run; `test_example_dags_scheduled` waits for them.
A DAG scheduled on an asset that no task produces (an asset watched for new telemetry) gets live
telemetry from `live_traffic.py`, a service of the deployment like the others.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.deployment import READ_TOKEN, Deployment


@dataclass(frozen=True)
class ExampleDags:
    #: `GET /dags/{dag_id}/details` of each example DAG, read before it was unpaused.
    details: dict[str, dict[str, Any]]
    #: The run type each DAG's schedule gives: `scheduled`, `asset_triggered` or `manual`.
    expected: dict[str, str]
    #: `time.monotonic()` when they were unpaused.
    unpaused_at: float


def expected_run_type(details: dict[str, Any]) -> str:
    if details.get("asset_expression"):
        return "asset_triggered"  # by an upstream DAG's asset event, or an asset watcher's
    if details.get("timetable_summary") in (None, "None"):
        return "manual"
    return "scheduled"


def start_example_dags(deployment: Deployment) -> ExampleDags:
    """Wait until every file of `example_dags/` is parsed, then unpause all its DAGs together
    (and trigger those without a schedule)."""
    api = deployment.api
    assert api is not None
    files = set(deployment.example_files())

    def parsed() -> dict[str, dict[str, Any]] | None:
        errors = [e for e in api.import_errors() if e["filename"].startswith("examples/")]
        if errors:
            raise AssertionError(f"Example DAG files failed to import: {errors}")
        dags = {d["dag_id"]: d for d in api.dags() if d["relative_fileloc"].startswith("examples/")}
        return dags if {d["relative_fileloc"] for d in dags.values()} == files else None

    dags = deployment.services.wait_for(
        "every example DAG file to be parsed", parsed, timeout=240, interval=3
    )
    details = {dag_id: api.get(f"/dags/{dag_id}/details") for dag_id in dags}
    expected = {dag_id: expected_run_type(d) for dag_id, d in details.items()}
    print(f"\nunpausing the example DAGs: {expected}")
    unpaused_at = time.monotonic()
    for dag_id in details:
        api.patch(f"/dags/{dag_id}", {"is_paused": False})
    # Airflow registers an asset's watchers (their triggers then run in the triggerer) when it
    # parses the file of an unpaused DAG scheduled on it: parse those files again now.
    for token in {d["file_token"] for d_id, d in details.items() if expected[d_id] == "asset_triggered"}:
        api.put(f"/parseDagFile/{token}")
    for dag_id, run_type in expected.items():
        if run_type == "manual":
            api.post(f"/dags/{dag_id}/dagRuns", {"logical_date": None})
    if _asset_without_producer(deployment, expected):
        _start_live_traffic(deployment)
    return ExampleDags(details=details, expected=expected, unpaused_at=unpaused_at)


def _asset_without_producer(deployment: Deployment, expected: dict[str, str]) -> bool:
    """Whether an example DAG is scheduled on an asset that no task produces: an asset watched
    for new telemetry, which only fresh telemetry sets off."""
    api = deployment.api
    assert api is not None
    consumers = {dag_id for dag_id, run_type in expected.items() if run_type == "asset_triggered"}
    return any(
        not asset["producing_tasks"] and consumers & {d["dag_id"] for d in asset["scheduled_dags"]}
        for asset in api.get("/assets", limit=1000)["assets"]
    )


def _start_live_traffic(deployment: Deployment) -> None:
    """Send new telemetry for every service of the demo data, as `live_traffic.py` says."""
    response = httpx.post(
        f"{deployment.logfire_url}/v2/query",
        json={"sql": "SELECT DISTINCT service_name FROM records", "min_timestamp": "2000-01-01T00:00:00Z"},
        headers={"Authorization": f"Bearer {READ_TOKEN}"},
        timeout=60,
    )
    response.raise_for_status()
    services = sorted(row["service_name"] for row in response.json()["data"])
    print(f"starting live telemetry for the asset watchers: {services}")
    deployment.services.start(
        "live-traffic",
        [
            sys.executable,
            str(Path(__file__).with_name("live_traffic.py")),
            deployment.logfire_url,
            READ_TOKEN,
            ",".join(services),
            str(deployment.out / "live-traffic-sdk"),
        ],
    )
