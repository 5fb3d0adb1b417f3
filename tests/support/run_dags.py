"""Run DAGs through `dag.test()` in a fresh interpreter and report what happened, as JSON.

Used by the `run_dags` fixture (tests/conftest.py); executed as a script, never imported:

    python run_dags.py SPEC_JSON OUT_JSON

SPEC: {"dags_folder": str, "runs": [{"dag_id": str, "logical_date": iso | null | "unset",
       "run_after": iso | null, "conf": {...}}]}
OUT:  [{"dag_id", "run_id", "state", "tasks": {task_id: state}, "tries": {task_id: try_number},
        "xcom": {task_id: value}, "rendered": {task_id: {field: value}}}]
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from older_airflow import sync_dags_to_db


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _plain(value: Any) -> Any:
    """Airflow's serde envelopes (e.g. for tuples) turned back into plain JSON values."""
    if isinstance(value, dict):
        if "__classname__" in value and "__data__" in value:
            return _plain(value["__data__"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path) as source:
        spec = json.load(source)
    from airflow.models.dagbag import DagBag
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = DagBag(dag_folder=spec["dags_folder"])
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    sync_dags_to_db(bag)
    results: list[dict[str, Any]] = []
    for run in spec["runs"]:
        dag = bag.get_dag(run["dag_id"])
        kwargs: dict[str, Any] = {}
        if run.get("logical_date", "unset") != "unset":
            kwargs["logical_date"] = _when(run["logical_date"])
        if run.get("run_after"):
            kwargs["run_after"] = _when(run["run_after"])
        if run.get("conf"):
            kwargs["run_conf"] = run["conf"]
        dag_run = dag.test(**kwargs)
        entry: dict[str, Any] = {
            "dag_id": dag.dag_id,
            "run_id": dag_run.run_id,
            "state": str(dag_run.state),
            "tasks": {},
            "tries": {},
            "xcom": {},
            "rendered": {},
        }
        with create_session() as session:
            for ti in dag_run.get_task_instances(session=session):
                key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
                entry["tasks"][key] = str(ti.state)
                entry["tries"][key] = ti.try_number
                rendered = RenderedTaskInstanceFields.get_templated_fields(ti, session=session)
                if rendered:
                    entry["rendered"][key] = rendered
            for xcom in session.scalars(
                XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag.dag_id, key="return_value")
            ):
                key = xcom.task_id if xcom.map_index < 0 else f"{xcom.task_id}[{xcom.map_index}]"
                entry["xcom"][key] = _plain(XComModel.deserialize_value(xcom))
        results.append(entry)
    with open(out_path, "w") as out:
        json.dump(results, out, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
