"""The asynchronous Logfire client, for triggers running in Airflow's triggerer.

Same requests, parsing, errors and retries as `LogfireClient` (all shared through `ClientBase`
and `protocol`); only the I/O is awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from airflow_provider_logfire.client.base import ClientBase
from airflow_provider_logfire.client.protocol import (
    MAX_ERROR_BODY,
    ColumnQueryResults,
    ReadTokenInfo,
    RequestSpec,
    ResultFormat,
    RowQueryResults,
    build_info_request,
    decode_json,
    error_from_response,
    parse_info,
    parse_json_result,
)
from airflow_provider_logfire.client.retry import RetryState
from airflow_provider_logfire.client.settings import ClientSettings
from airflow_provider_logfire.client.streams import NdjsonDecoder, read_arrow_table
from airflow_provider_logfire.exceptions import LogfireError

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
Environment = str | Sequence[str] | None


class AsyncLogfireClient(ClientBase):
    """Query Logfire over HTTP from asyncio code. Use `async with`, or `await aclose()`."""

    def __init__(
        self, settings: ClientSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        self._http = httpx.AsyncClient(transport=transport, **self._httpx_options())

    @classmethod
    def from_token(cls, token: str, *, base_url: str | None = None, **settings: Any) -> AsyncLogfireClient:
        return cls(ClientSettings(token=token, base_url=base_url, **settings))

    async def __aenter__(self) -> AsyncLogfireClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- public API -----------------------------------------------------------------------------

    async def info(self) -> ReadTokenInfo:
        request = build_info_request()
        return parse_info(decode_json(await self._call(request, _read_body), "read-token info"))

    async def query_json(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> ColumnQueryResults:
        fmt = ResultFormat.JSON
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        body = await self._call(request, _read_body)
        return parse_json_result(decode_json(body, "a query result"), fmt)  # type: ignore[return-value]

    async def query_json_rows(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> RowQueryResults:
        fmt = ResultFormat.JSON_ROWS
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        body = await self._call(request, _read_body)
        return parse_json_result(decode_json(body, "a query result"), fmt)  # type: ignore[return-value]

    async def query_arrow(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> pa.Table:
        """The whole result as a `pyarrow.Table` (read fully, then decoded)."""
        fmt = ResultFormat.ARROW
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        body = await self._call(request, _read_body)
        return read_arrow_table([body])

    async def query_csv(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> str:
        fmt = ResultFormat.CSV
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return (await self._call(request, _read_body)).decode("utf-8")

    async def iter_rows(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Rows from v2's NDJSON stream as they arrive; an in-stream `error` line raises."""
        fmt = ResultFormat.NDJSON
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        state = RetryState(self.settings.retry)
        while True:
            started = False
            try:
                async with self._open(request) as response:
                    decoder = NdjsonDecoder()
                    async for chunk in self._chunks(response, request):
                        for event in decoder.feed(chunk):
                            for row in event.get("rows", ()) if event.get("type") == "data" else ():
                                started = True
                                yield row
                    for event in decoder.finish():
                        for row in event.get("rows", ()) if event.get("type") == "data" else ():
                            yield row
                return
            except LogfireError as exc:
                delay = None if started else self._retry_delay(state, exc, request)
                if delay is None:
                    raise
                await asyncio.sleep(delay)

    # -- I/O --------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _open(self, request: RequestSpec) -> AsyncIterator[httpx.Response]:
        await self._pause.wait_async()
        try:
            async with self._http.stream(
                request.method,
                request.path,
                params=request.params,
                json=request.json,
                headers=request.headers,
            ) as response:
                if response.status_code != 200:
                    body = b""
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= MAX_ERROR_BODY:
                            break
                    raise error_from_response(
                        self.settings, request, response.status_code, response.headers, body
                    )
                yield response
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, request, mid_body=False) from exc

    async def _chunks(self, response: httpx.Response, request: RequestSpec) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, request, mid_body=True) from exc

    async def _call(self, request: RequestSpec, consume: Callable[[AsyncIterator[bytes]], Awaitable[T]]) -> T:
        state = RetryState(self.settings.retry)
        while True:
            try:
                async with self._open(request) as response:
                    return await consume(self._chunks(response, request))
            except LogfireError as exc:
                delay = self._retry_delay(state, exc, request)
                if delay is None:
                    raise
                await asyncio.sleep(delay)


async def _read_body(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])
