"""Provider metadata, found by Airflow through the `apache_airflow_provider` entry point.

Airflow 3.2+ builds the connection form from `conn-fields` and `ui-field-behaviour` here without
importing the hook; Airflow 3.0/3.1 ask the hook's `get_connection_form_widgets` instead.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_logfire import __version__
from airflow_provider_logfire._airflow.connection_form import (
    CONN_FIELDS,
    HIDDEN_FIELDS,
    PLACEHOLDERS,
    RELABELING,
)

INTEGRATION = "Pydantic Logfire"
#: Also the package's `Documentation` project URL, which Airflow 3.2+ reads instead of this entry.
DOCUMENTATION_URL = "https://airflow-provider-logfire.github.io/airflow-provider-logfire/"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-logfire",
        "name": INTEGRATION,
        "description": "Query, export and wait for telemetry in `Pydantic Logfire <https://pydantic.dev/logfire>`__.",
        "versions": [__version__],
        "documentation-url": DOCUMENTATION_URL,
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://logfire.pydantic.dev/docs/how-to-guides/query-api/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_logfire.hooks.logfire"]},
        ],
        "operators": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_logfire.operators.query"]},
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_provider_logfire.sensors.data_available"],
            },
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_logfire.triggers.data_available",
                    "airflow_provider_logfire.triggers.new_data",
                ],
            },
        ],
        "transfers": [
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Local filesystem and object storage",
                "python-module": "airflow_provider_logfire.transfers.logfire_to_file",
            },
        ],
        "extra-links": ["airflow_provider_logfire._airflow.links.LogfireLink"],
        "asset-uris": [
            {
                "schemes": ["logfire"],
                "handler": "airflow_provider_logfire._airflow.asset_uri.sanitize_uri",
                "factory": "airflow_provider_logfire._airflow.asset_uri.create_asset",
                "to_openlineage_converter": "airflow_provider_logfire._airflow.asset_uri.convert_asset_to_openlineage",
            }
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_logfire.hooks.logfire.LogfireHook",
                "hook-name": "Pydantic Logfire",
                "connection-type": "logfire",
                "conn-fields": copy.deepcopy(CONN_FIELDS),
                "ui-field-behaviour": {
                    "hidden-fields": HIDDEN_FIELDS,
                    "relabeling": RELABELING,
                    "placeholders": PLACEHOLDERS,
                },
            }
        ],
    }
