"""Internals shared by the Airflow tier: task context, version compatibility, the connection form."""
