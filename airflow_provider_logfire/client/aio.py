"""The asynchronous Logfire client, for triggers running in Airflow's triggerer.

Same requests, parsing, errors and retries as `LogfireClient` (all shared through `ClientBase`
and `protocol`); only the I/O is awaited.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from airflow_provider_logfire.client.base import ClientBase
from airflow_provider_logfire.client.files import AtomicFile
from airflow_provider_logfire.client.gzip_body import gzip_decoder
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
from airflow_provider_logfire.client.streams import (
    ArrowStreamDecoder,
    NdjsonRowDecoder,
    StreamDecoder,
    adecode_stream,
    arrow_table,
)
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
        """Build a client from a read token (and optionally a base URL, region, api_version...)."""
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
        """The whole result as a `pyarrow.Table`, decoded as the body arrives."""
        fmt = ResultFormat.ARROW
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return await self._call(request, _read_arrow_table)

    def iter_batches(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> AsyncIterator[pa.RecordBatch]:
        """Arrow record batches while the response still arrives (memory: one batch).

        Use `async for batch in client.iter_batches(...)`. A body cut before its end-of-stream
        marker raises `LogfireIncompleteResponseError`, after the batches that did arrive.
        """
        fmt = ResultFormat.ARROW
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return self._stream(request, ArrowStreamDecoder)

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

    async def query_csv_to_file(
        self,
        sql: str,
        path: str | os.PathLike[str],
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> int:
        """Stream the CSV result into `path` (written whole or not at all); returns bytes written.

        File operations run in a worker thread, so a slow disk never stalls the event loop (a
        triggerer runs many triggers on one loop).
        """
        fmt = ResultFormat.CSV
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        target = AtomicFile(path)

        async def write(chunks: AsyncIterator[bytes]) -> int:
            written = 0
            out = await asyncio.to_thread(target.open)
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(out.write, chunk)
                    written += len(chunk)
            finally:
                await asyncio.to_thread(out.close)
            await asyncio.to_thread(target.publish)
            return written

        try:
            return await self._call(request, write)
        finally:
            await asyncio.to_thread(target.discard)

    def iter_rows(
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
        return self._stream(request, NdjsonRowDecoder)

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
        """The decoded (un-gzipped) body, with a cut connection reported as an incomplete body."""
        try:
            gzip = gzip_decoder(response.headers)
            if gzip is None:
                async for chunk in response.aiter_bytes():
                    yield chunk
                return
            async for raw in response.aiter_raw():
                if data := gzip.decode(raw):
                    yield data
            gzip.flush()
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

    async def _stream(
        self, request: RequestSpec, decoder: Callable[[], StreamDecoder[T]]
    ) -> AsyncIterator[T]:
        """Like `_call` for streams: retries only while nothing has been yielded yet."""
        state = RetryState(self.settings.retry)
        while True:
            started = False
            try:
                async with self._open(request) as response:
                    async for item in adecode_stream(self._chunks(response, request), decoder()):
                        started = True
                        yield item
                return
            except LogfireError as exc:
                delay = None if started else self._retry_delay(state, exc, request)
                if delay is None:
                    raise
                await asyncio.sleep(delay)


async def _read_body(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _read_arrow_table(chunks: AsyncIterator[bytes]) -> pa.Table:
    decoder = ArrowStreamDecoder()
    return arrow_table([batch async for batch in adecode_stream(chunks, decoder)], decoder)
