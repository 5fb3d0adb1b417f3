"""An Airflow-free client for the Logfire query API: sync and async, v1 and v2, every format.

Names load on first use, so that an operator reading a constant (`MAX_LIMIT`) or settings at
DAG-parse time does not import httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_logfire.client.aio import AsyncLogfireClient
    from airflow_provider_logfire.client.protocol import (
        ColumnQueryResults,
        QueryParams,
        ReadTokenInfo,
        ResultFormat,
        RowQueryResults,
    )
    from airflow_provider_logfire.client.retry import RetryPolicy
    from airflow_provider_logfire.client.settings import MAX_LIMIT, REGION_BASE_URLS, ClientSettings
    from airflow_provider_logfire.client.sync import LogfireClient
    from airflow_provider_logfire.exceptions import (
        LogfireAPIError,
        LogfireAuthError,
        LogfireBadRequestError,
        LogfireConfigError,
        LogfireDecodeError,
        LogfireError,
        LogfireIncompleteResponseError,
        LogfireNotFoundError,
        LogfireQueryError,
        LogfireRateLimitError,
        LogfireServerError,
        LogfireTransportError,
        LogfireUsageLimitError,
    )

#: Public name -> the module that defines it (a submodule, or the package's exception hierarchy).
_HOMES = {
    "AsyncLogfireClient": "aio",
    "ClientSettings": "settings",
    "ColumnQueryResults": "protocol",
    "LogfireAPIError": "airflow_provider_logfire.exceptions",
    "LogfireAuthError": "airflow_provider_logfire.exceptions",
    "LogfireBadRequestError": "airflow_provider_logfire.exceptions",
    "LogfireClient": "sync",
    "LogfireConfigError": "airflow_provider_logfire.exceptions",
    "LogfireDecodeError": "airflow_provider_logfire.exceptions",
    "LogfireError": "airflow_provider_logfire.exceptions",
    "LogfireIncompleteResponseError": "airflow_provider_logfire.exceptions",
    "LogfireNotFoundError": "airflow_provider_logfire.exceptions",
    "LogfireQueryError": "airflow_provider_logfire.exceptions",
    "LogfireRateLimitError": "airflow_provider_logfire.exceptions",
    "LogfireServerError": "airflow_provider_logfire.exceptions",
    "LogfireTransportError": "airflow_provider_logfire.exceptions",
    "LogfireUsageLimitError": "airflow_provider_logfire.exceptions",
    "MAX_LIMIT": "settings",
    "QueryParams": "protocol",
    "REGION_BASE_URLS": "settings",
    "ReadTokenInfo": "protocol",
    "ResultFormat": "protocol",
    "RetryPolicy": "retry",
    "RowQueryResults": "protocol",
}

__all__ = [
    "MAX_LIMIT",
    "REGION_BASE_URLS",
    "AsyncLogfireClient",
    "ClientSettings",
    "ColumnQueryResults",
    "LogfireAPIError",
    "LogfireAuthError",
    "LogfireBadRequestError",
    "LogfireClient",
    "LogfireConfigError",
    "LogfireDecodeError",
    "LogfireError",
    "LogfireIncompleteResponseError",
    "LogfireNotFoundError",
    "LogfireQueryError",
    "LogfireRateLimitError",
    "LogfireServerError",
    "LogfireTransportError",
    "LogfireUsageLimitError",
    "QueryParams",
    "ReadTokenInfo",
    "ResultFormat",
    "RetryPolicy",
    "RowQueryResults",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(home if "." in home else f"{__name__}.{home}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
