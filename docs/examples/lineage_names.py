"""How the provider names a connection's project for lineage, and where its "Logfire" link goes.

Run it against any `logfire` connection, e.g. the local server:

    logfire-local serve --demo-days 3 &
    export AIRFLOW_CONN_LOGFIRE_DEFAULT='{"conn_type": "logfire", "host": "http://127.0.0.1:8787", "password": "pylf_v1_local_devtoken"}'
    python docs/examples/lineage_names.py
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_logfire.client import ClientSettings
from airflow_provider_logfire.client.project import LogfireProject
from airflow_provider_logfire.hooks.logfire import LogfireHook

today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
yesterday = (today - timedelta(days=1), today)

# --8<-- [start:project]
project = LogfireHook().get_project()  # asks read-token-info once for the names
print("Lineage namespace:", project.namespace)  # logfire://127.0.0.1:8787/local/demo
print("Input dataset of `records`:", project.namespace, "records")
print("Logfire link:", project.live_view_url(*yesterday) or "none: a local server has no web UI")
# --8<-- [end:project]
assert project.namespace.startswith("logfire://")
assert project.organization
assert project.project

# --8<-- [start:regions]
eu = LogfireProject.of(
    ClientSettings(token="pylf_v1_eu_..."), {"organization_name": "acme", "project_name": "shop"}
)
print(eu.namespace)  # logfire://logfire-eu.pydantic.dev/acme/shop
print(eu.live_view_url(*yesterday, environments=["prod"]))
# https://logfire-eu.pydantic.dev/acme/shop?since=...Z&until=...Z&env=prod
# --8<-- [end:regions]
assert eu.url == "https://logfire-eu.pydantic.dev/acme/shop"
