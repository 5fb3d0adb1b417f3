"""Every example DAG, unpaused in a real deployment, is scheduled to success by the scheduler.

Whatever `example_dags/` holds is picked up: the deployment copies the folder, and the session
unpauses every DAG in it as soon as the deployment is up (`examples.start_example_dags`, while the
other tests run); this test expects, from each DAG's schedule as the API showed it, the run the
scheduler creates:

- a time-scheduled DAG (catchup off): one `scheduled` run for the latest complete interval, whose
  logical date the API announced before the DAG was unpaused; the demo data covers that window;
- a DAG scheduled on assets: an `asset_triggered` run, created by the asset events of its
  upstream's successful run (or of an asset watcher in the triggerer);
- a DAG without a schedule: triggered here, once.

The test fails at the first failed or retried task, with the task logs.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.deployment import READ_TOKEN, Deployment
from tests.e2e.examples import ExampleDags

#: From unpausing: about 35 tasks for the four original examples, two at a time, on a loaded
#: machine, sharing it with the other tests.
TIMEOUT = 480
FAILED = {"failed", "up_for_retry", "upstream_failed"}


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def test_every_example_dag_is_scheduled_to_success(deployment: Deployment, example_dags: ExampleDags) -> None:
    api = deployment.api
    assert api is not None
    dags, expected = example_dags.details, example_dags.expected

    waiting: dict[str, list[str]] = {}

    def runs_done() -> dict[str, dict[str, Any]] | None:
        done = {}
        waiting.clear()
        for dag_id, run_type in expected.items():
            runs = api.dag_runs(dag_id)
            for run in runs:
                _fail_on_failure(deployment, run)
                if run["run_type"] == run_type and run["state"] == "success":
                    done[dag_id] = run
                    break
            else:
                waiting[dag_id] = [f"{r['run_type']} {r['state']}" for r in runs] or ["no run"]
        return done if len(done) == len(expected) else None

    try:
        runs = deployment.services.wait_for(
            "every example DAG to have a successful run",
            runs_done,
            timeout=max(60.0, TIMEOUT - (time.monotonic() - example_dags.unpaused_at)),
            interval=3,
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still waiting for {waiting} (expected run types: {expected})") from None
    elapsed = time.monotonic() - example_dags.unpaused_at
    for dag_id, run in sorted(runs.items()):
        print(
            f"{dag_id:<32} {run['run_type']:<16} {run['data_interval_start']} .. {run['data_interval_end']}"
            f"  {run['duration'] or 0:6.1f} s"
        )
    print(f"all example runs succeeded {elapsed:.0f} s after unpausing")

    for dag_id, run in runs.items():
        if expected[dag_id] == "scheduled":
            _check_scheduled(deployment, dags[dag_id], run)
        if expected[dag_id] == "asset_triggered":
            _check_asset_triggered(deployment, run, runs)
        assert READ_TOKEN not in deployment.task_logs(dag_id, run["dag_run_id"]), f"token in {dag_id} logs"


def _check_scheduled(deployment: Deployment, details: dict[str, Any], run: dict[str, Any]) -> None:
    """The run is the one the API announced before unpausing, and its window holds demo data."""
    assert run["logical_date"] == details["next_dagrun_logical_date"], (run, details)
    start, end = _when(run["data_interval_start"]), _when(run["data_interval_end"])
    assert start is not None and end is not None and start < end, run
    assert deployment.demo_start <= start < deployment.demo_end, (
        f"{run['dag_id']}'s window {start}..{end} is outside the demo data "
        f"{deployment.demo_start}..{deployment.demo_end}"
    )


def _check_asset_triggered(deployment: Deployment, run: dict[str, Any], runs: dict[str, dict]) -> None:
    """The run was created by asset events, each from a successful run of an example DAG (or from
    an asset watcher, which names no DAG)."""
    api = deployment.api
    assert api is not None
    events = api.get(f"/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")["asset_events"]
    assert events, f"{run['dag_id']} ran on assets, but no asset event led to {run['dag_run_id']}"
    for event in events:
        source = event.get("source_dag_id")
        if source is None:
            continue  # an asset watcher's event: its trigger ran in the triggerer
        assert source in runs, f"{run['dag_id']} was triggered by {source}, not an example DAG"
        upstream = api.get(f"/dags/{source}/dagRuns/{event['source_run_id']}")
        assert upstream["state"] == "success", upstream


def _fail_on_failure(deployment: Deployment, run: dict[str, Any]) -> None:
    if run["state"] != "failed" and not _failed_tasks(deployment, run):
        return
    raise AssertionError(
        f"{run['dag_id']} run {run['dag_run_id']} failed ({run['state']}); tasks: "
        f"{_task_states(deployment, run)}\n{deployment.task_logs(run['dag_id'], run['dag_run_id'])}"
    )


def _failed_tasks(deployment: Deployment, run: dict[str, Any]) -> list[str]:
    if run["state"] == "success":
        return []
    return [t for t, state in _task_states(deployment, run).items() if state in FAILED]


def _task_states(deployment: Deployment, run: dict[str, Any]) -> dict[str, str]:
    api = deployment.api
    assert api is not None
    return {
        f"{t['task_id']}[{t['map_index']}]" if t["map_index"] >= 0 else t["task_id"]: t["state"]
        for t in api.task_instances(run["dag_id"], run["dag_run_id"])
    }


pytestmark = pytest.mark.timeout(900)
