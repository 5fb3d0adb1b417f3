"""Run an asset chain the way the scheduler does, and report every step as JSON.

Used by tests/transfers/test_transfer_assets.py; executed as a script, never imported:

    python run_asset_chain.py SPEC_JSON OUT_JSON

SPEC: {"dags_folder", "producer": {"dag_id", "logical_date"}, "consumer": dag_id, "asset": name}

1. `dag.test()` runs the producer (it syncs every DAG of the folder to the database first, so the
   consumer is registered as scheduled on the asset).
2. The asset's events (`AssetEvent`) and the consumer's queue rows (`AssetDagRunQueue`) are read.
3. The scheduler's own `_create_dag_runs_asset_triggered` turns the queue into the consumer's run,
   with the queued events as its consumed events, exactly as a scheduler loop would.
4. That run's tasks are executed by `dag.test()`'s task loop (handed the scheduler-made run
   instead of a fresh manual one), so tasks read `triggering_asset_events` from the database.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from unittest import mock

from older_airflow import GET_OR_CREATE_DAGRUN, create_asset_triggered_runs, sync_dags_to_db


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path) as source:
        spec = json.load(source)
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.dag import DagModel
    from airflow.models.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    bag = DagBag(dag_folder=spec["dags_folder"])
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    sync_dags_to_db(bag)
    producer = spec["producer"]
    produced = bag.get_dag(producer["dag_id"]).test(
        logical_date=datetime.fromisoformat(producer["logical_date"])
    )
    out: dict[str, Any] = {"producer_state": str(produced.state)}

    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == spec["asset"]))
        events = session.scalars(select(AssetEvent).where(AssetEvent.asset_id == asset.id)).all()
        out["events"] = [
            {"extra": e.extra, "source_dag_id": e.source_dag_id, "source_run_id": e.source_run_id}
            for e in events
        ]
        queued = session.scalars(select(AssetDagRunQueue).where(AssetDagRunQueue.asset_id == asset.id)).all()
        out["queued_for"] = sorted(q.target_dag_id for q in queued)

        job = Job()
        session.add(job)
        session.flush()
        runner = SchedulerJobRunner(job=job)
        consumer_model = session.get(DagModel, spec["consumer"])
        create_asset_triggered_runs(runner, [consumer_model], session)
        session.commit()
        out["queued_after"] = len(
            session.scalars(
                select(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == spec["consumer"])
            ).all()
        )

    consumer = bag.get_dag(spec["consumer"])
    with create_session() as session:
        from airflow.models.dagrun import DagRun

        run = session.scalars(select(DagRun).where(DagRun.dag_id == spec["consumer"])).one()
        out["consumer_run_type"] = str(run.run_type)
        out["consumed_events"] = len(run.consumed_asset_events)
        run.state = DagRunState.RUNNING
        session.commit()
        run_id = run.run_id

    def scheduled_run(*, dag: Any, session: Any, **_: Any) -> Any:
        run = session.scalars(select(DagRun).where(DagRun.run_id == run_id)).one()
        run.dag = dag  # as `get_or_create_dagrun` hands `dag.test()` its run
        return run

    with mock.patch(GET_OR_CREATE_DAGRUN, scheduled_run):
        finished = consumer.test(logical_date=None)
    out["consumer_state"] = str(finished.state)
    with create_session() as session:
        out["consumer_tasks"] = {
            ti.task_id: str(ti.state) for ti in finished.get_task_instances(session=session)
        }
        out["consumer_xcom"] = {
            x.task_id: XComModel.deserialize_value(x)
            for x in session.scalars(
                XComModel.get_many(run_id=run_id, dag_ids=spec["consumer"], key="return_value")
            )
        }
    with open(out_path, "w") as sink:
        json.dump(out, sink, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
