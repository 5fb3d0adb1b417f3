"""What the `logfire` connection form shows, shared by the provider info and the hook.

Kept free of Airflow imports so that reading the provider info stays cheap.
"""

from __future__ import annotations

from typing import Any

#: The extras the connection form offers: label, JSON schema (type, choices, default) and help
#: text. Airflow 3.2+ read them as the provider info's `conn-fields`; for 3.0/3.1 the hook turns
#: them into WTForms widgets (`LogfireHook.get_connection_form_widgets`).
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region",
        "schema": {"type": ["string", "null"], "enum": ["auto", "us", "eu"], "default": "auto"},
        "description": "auto reads the region from the token prefix (pylf_v1_eu_...). "
        "Ignored when a base URL is set.",
    },
    "api_version": {
        "label": "Query API version",
        "schema": {"type": ["string", "null"], "enum": ["v2", "v1"], "default": "v2"},
        "description": "v2 (POST /v2/query) is current; v1 (GET /v1/query) for older deployments.",
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "schema": {"type": ["number", "null"], "default": 60, "minimum": 1},
        "description": "Seconds to wait for each request.",
    },
    "environment": {
        "label": "Default deployment environment(s)",
        "schema": {"type": ["string", "null"]},
        "description": "Comma-separated deployment environments that queries are restricted to "
        "unless they say otherwise (v2 only).",
    },
    "allow_insecure_http": {
        "label": "Allow plain HTTP to a non-local host",
        "schema": {"type": ["boolean", "null"], "default": False},
        "description": "Plain http:// is only allowed to this machine unless this is set.",
    },
    "ui_url": {
        "label": "Web UI URL (self-hosted, for links)",
        "schema": {"type": ["string", "null"]},
        "description": "Base URL of the Logfire web UI, for the operators' Logfire link. "
        "Not needed for the US and EU regions; without it a self-hosted or local server gets no link.",
    },
}
CONN_FIELD_LABELS = {name: field["label"] for name, field in CONN_FIELDS.items()}
RELABELING = {"password": "Read token", "host": "Base URL (self-hosted or local, optional)"}
HIDDEN_FIELDS = ["login", "schema", "port"]
PLACEHOLDERS = {
    "password": "pylf_v1_us_...",
    "host": "https://logfire-eu.pydantic.dev or http://127.0.0.1:8787",
    "region": "auto",
    "api_version": "v2",
    "timeout": "60",
    "environment": "prod, staging",
    "ui_url": "https://logfire.example.com",
}


def wtforms_validators() -> tuple[Any, Any]:
    """WTForms' `Optional` and `any_of`, from where Airflow 3.1's stand-in for WTForms put them.

    Without Flask-AppBuilder, 3.1's API server stubs `wtforms` and `wtforms.validators` as two
    mocks and patches `any_of` onto one: the submodule on Python 3.12+, the parent's attribute
    before (mock's lookup of a patch target changed). With WTForms installed both are the module.
    """
    import sys
    from unittest import mock

    import wtforms.validators

    candidates = [sys.modules["wtforms.validators"], wtforms.validators]
    patched = [m for m in candidates if not isinstance(m.any_of, mock.NonCallableMock)]
    chosen = (patched or candidates)[0]
    return chosen.Optional, chosen.any_of
