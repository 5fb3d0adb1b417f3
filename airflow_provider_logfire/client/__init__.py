"""An Airflow-free client for the Logfire query API: sync and async, v1 and v2, every format.

Names load on first use, so that an operator reading a constant (`MAX_LIMIT`) or settings at
DAG-parse time does not import httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_logfire.client.aio import AsyncLogfireClient
    from airflow_provider_logfire.client.errors import (
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

#: Public name -> the module that defines it.
_HOMES = {
    "AsyncLogfireClient": "aio",
    "ClientSettings": "settings",
    "ColumnQueryResults": "protocol",
    "LogfireAPIError": "errors",
    "LogfireAuthError": "errors",
    "LogfireBadRequestError": "errors",
    "LogfireClient": "sync",
    "LogfireConfigError": "errors",
    "LogfireDecodeError": "errors",
    "LogfireError": "errors",
    "LogfireIncompleteResponseError": "errors",
    "LogfireNotFoundError": "errors",
    "LogfireQueryError": "errors",
    "LogfireRateLimitError": "errors",
    "LogfireServerError": "errors",
    "LogfireTransportError": "errors",
    "LogfireUsageLimitError": "errors",
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
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
