"""The DAG-task fixtures (a local Logfire server, a client on it, a module's DAG runs)."""

from tests.support.dag_tasks import client, run_module_dags, server  # noqa: F401
