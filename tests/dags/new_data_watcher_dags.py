"""DAG for test_new_data_watcher_triggerer.py: an asset watched by LogfireNewDataTrigger.

Parsed by a real `airflow dag-processor`, whose watcher a real `airflow triggerer` then runs.
The poll interval comes from the environment so that the test polls fast; it is the same on
every parse, as a watcher's kwargs must be.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_logfire.triggers.new_data import LogfireNewDataTrigger

SHOP_ERRORS = Asset(
    "lf_shop_errors",
    watchers=[
        AssetWatcher(
            name="lf_shop_errors_watcher",
            trigger=LogfireNewDataTrigger(
                where="service_name = 'shop' AND level >= 'error'",
                poll_interval=float(os.environ.get("LF_TEST_POLL_INTERVAL", "60")),
                settle=0,
            ),
        )
    ],
)


@dag(dag_id="lf_on_shop_errors", schedule=[SHOP_ERRORS], start_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
def on_shop_errors():
    @task
    def noop() -> None:
        pass

    noop()


on_shop_errors()
