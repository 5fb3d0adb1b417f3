"""What the `dag.test()` runner scripts do differently on older Airflow 3 releases.

Imported by `run_dags.py` and `run_asset_chain.py` (as a sibling module: they run as scripts).
"""

from __future__ import annotations

import inspect
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION

ON_AIRFLOW_30 = AIRFLOW_VERSION.startswith("3.0.")

#: The function `dag.test()` gets its run from: 3.0 imports it from `airflow.models.dag`, 3.1+
#: from `airflow.models.dagrun`. A test that hands `dag.test()` a scheduler-made run patches it.
GET_OR_CREATE_DAGRUN = (
    "airflow.models.dag._get_or_create_dagrun"
    if ON_AIRFLOW_30
    else "airflow.models.dagrun.get_or_create_dagrun"
)


def sync_dags_to_db(bag: Any) -> None:
    """Write every DAG of `bag` (the `dags-folder` bundle) to the database, as the DAG processor would.

    Airflow 3.1+'s `dag.test()` does this itself. 3.0's runs the DAG without it, so the database
    knows neither the DAG (the API answers "DAG not found") nor its assets (an outlet raises
    `AirflowInactiveAssetInInletOrOutletException`).
    """
    if not ON_AIRFLOW_30:
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    bag.sync_to_db("dags-folder", None)


def create_asset_triggered_runs(runner: Any, dag_models: list[Any], session: Any) -> None:
    """Have the scheduler create the runs that queued asset events call for, as its loop would.

    Up to 3.1, `_create_dag_runs_asset_triggered` also takes each DAG's newest event time, which
    the scheduler reads from `DagModel.dags_needing_dagruns`; 3.2+ find it themselves.
    """
    create = runner._create_dag_runs_asset_triggered
    if "triggered_date_by_dag" not in inspect.signature(create).parameters:
        create(dag_models=dag_models, session=session)
        return
    from airflow.models.dag import DagModel

    _, triggered_date_by_dag = DagModel.dags_needing_dagruns(session)
    create(dag_models=dag_models, triggered_date_by_dag=triggered_date_by_dag, session=session)
