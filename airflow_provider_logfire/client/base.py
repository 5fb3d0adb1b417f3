"""What the sync and async clients share: settings, request building and error translation.

Only the I/O differs between `LogfireClient` and `AsyncLogfireClient`; everything that decides
*what* to send and *what an answer means* is here or in `protocol`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from airflow_provider_logfire.client.protocol import (
    QueryParams,
    RequestSpec,
    ResultFormat,
    auth_headers,
    build_query_request,
)
from airflow_provider_logfire.client.retry import RetryState, SharedPause, server_pause
from airflow_provider_logfire.client.settings import ClientSettings
from airflow_provider_logfire.exceptions import (
    LogfireError,
    LogfireIncompleteResponseError,
    LogfireTransportError,
)

log = logging.getLogger("airflow_provider_logfire.client")


class ClientBase:
    """State and behaviour common to both clients."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._pause = SharedPause()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.settings.resolved_base_url!r}, "
            f"api_version={self.settings.api_version!r})"
        )

    @property
    def base_url(self) -> str:
        return self.settings.resolved_base_url

    def _httpx_options(self) -> dict[str, Any]:
        timeout = self.settings.timeout
        return {
            "base_url": self.settings.resolved_base_url,
            "headers": auth_headers(self.settings),
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            "follow_redirects": False,
        }

    def _query_request(
        self,
        fmt: ResultFormat,
        sql: str,
        min_timestamp: datetime | None,
        max_timestamp: datetime | None,
        limit: int | None,
        timezone: str | None,
        environment: str | Sequence[str] | None,
    ) -> RequestSpec:
        params = QueryParams(
            sql=sql,
            min_timestamp=min_timestamp,
            max_timestamp=max_timestamp,
            limit=limit,
            timezone=timezone,
            environment=(environment,) if isinstance(environment, str) else environment,
        )
        return build_query_request(self.settings, params, fmt)

    def _retry_delay(self, state: RetryState, error: LogfireError, request: RequestSpec) -> float | None:
        """Seconds to wait before the next attempt, or None to give up; also informs the shared pause."""
        delay = state.delay_after(error)
        if (pause := server_pause(error)) is not None:
            self._pause.extend(pause)
        if delay is not None:
            log.warning(
                "%s failed (%s); retrying in %.1fs (attempt %d of %d)",
                request.target,
                error,
                delay,
                state.attempt + 1,
                self.settings.retry.max_attempts,
            )
        return delay

    def _transport_error(self, exc: httpx.HTTPError, request: RequestSpec, *, mid_body: bool) -> LogfireError:
        """Translate an httpx failure into our hierarchy, saying where and what."""
        where = self.settings.describe()
        if isinstance(exc, httpx.TimeoutException):
            message = f"{request.target} to {where} timed out after {self.settings.timeout:g}s ({type(exc).__name__})"
        elif isinstance(exc, httpx.ConnectError):
            message = f"Could not connect to {where} for {request.target}: {exc}"
        else:
            message = f"{request.target} to {where} failed: {type(exc).__name__}: {exc}"
        if mid_body:
            return LogfireIncompleteResponseError(
                f"{message} (the response body was cut off)", target=request.target
            )
        return LogfireTransportError(message, target=request.target)
