"""An Airflow-free client for the Logfire query API: sync and async, v1 and v2, every format."""

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
