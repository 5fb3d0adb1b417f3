"""What the `logfire` connection form shows, shared by the provider info and the hook.

Kept free of Airflow imports so that reading the provider info stays cheap.
"""

from __future__ import annotations

#: Extras the connection form offers, with their labels (shared with the Airflow 3.0/3.1 form).
CONN_FIELD_LABELS = {
    "region": "Region",
    "api_version": "Query API version",
    "timeout": "Request timeout (seconds)",
    "environment": "Default deployment environment(s)",
    "allow_insecure_http": "Allow plain HTTP to a non-local host",
    "ui_url": "Web UI URL (self-hosted, for links)",
}
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
