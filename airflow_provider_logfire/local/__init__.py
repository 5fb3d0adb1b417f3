"""A Logfire-compatible query server on Apache DataFusion, for development and tests without an account.

Run it with `python -m airflow_provider_logfire.local serve` (or `logfire-local serve`); in
tests use `airflow_provider_logfire.local.testing.run_local_server`. Needs the `local` extra
(datafusion, sqlglot, orjson, starlette, uvicorn); importing this package alone imports none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: The token a local server accepts unless told otherwise. It guards nothing of value, which
#: is why the CLI may print it; any other token is treated as a secret.
DEV_TOKEN = "pylf_v1_local_devtoken"

if TYPE_CHECKING:
    from airflow_provider_logfire.local.app import create_app
    from airflow_provider_logfire.local.engine import LocalEngine
    from airflow_provider_logfire.local.testing import run_local_server

__all__ = ["DEV_TOKEN", "LocalEngine", "create_app", "run_local_server"]

_LAZY = {
    "LocalEngine": "airflow_provider_logfire.local.engine",
    "create_app": "airflow_provider_logfire.local.app",
    "run_local_server": "airflow_provider_logfire.local.testing",
}


def __getattr__(name: str) -> Any:
    """Import the heavy parts only when asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
