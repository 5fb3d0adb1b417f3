"""The synchronous Logfire client, used by operators and the hook.

Every method sends one logical request, retried on 429/5xx/transport failures as the settings'
`RetryPolicy` allows. Streaming methods retry only until their first item has been yielded: after
that, a failure is raised rather than replayed, so a caller never sees a row twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
    decode_stream,
    read_arrow_table,
)
from airflow_provider_logfire.exceptions import LogfireError

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
Environment = str | Sequence[str] | None


class LogfireClient(ClientBase):
    """Query Logfire over HTTP, synchronously.

    Use it as a context manager, or call `close()`, to release its connections. One client may be
    shared by threads: concurrent requests reuse connections and back off together on 429.
    """

    def __init__(self, settings: ClientSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings)
        self._http = httpx.Client(transport=transport, **self._httpx_options())

    @classmethod
    def from_token(cls, token: str, *, base_url: str | None = None, **settings: Any) -> LogfireClient:
        """Build a client from a read token (and optionally a base URL, region, api_version...)."""
        return cls(ClientSettings(token=token, base_url=base_url, **settings))

    def __enter__(self) -> LogfireClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- public API -----------------------------------------------------------------------------

    def info(self) -> ReadTokenInfo:
        """Organisation and project of the read token: the cheapest way to test a connection."""
        request = build_info_request()
        return parse_info(decode_json(self._call(request, _read_body), "read-token info"))

    def query_json(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> ColumnQueryResults:
        """Column-oriented results: `{"columns": [{"name", "datatype", "nullable", "values"}]}`."""
        fmt = ResultFormat.JSON
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return parse_json_result(decode_json(self._call(request, _read_body), "a query result"), fmt)  # type: ignore[return-value]

    def query_json_rows(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> RowQueryResults:
        """Row-oriented results: `{"columns": [{"name", "datatype", "nullable"}], "rows": [{...}]}`."""
        fmt = ResultFormat.JSON_ROWS
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return parse_json_result(decode_json(self._call(request, _read_body), "a query result"), fmt)  # type: ignore[return-value]

    def query_arrow(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> pa.Table:
        """The result as a `pyarrow.Table` (typed columns; an empty result keeps its schema)."""
        fmt = ResultFormat.ARROW
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return self._call(request, read_arrow_table)

    def iter_batches(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> Iterator[pa.RecordBatch]:
        """Yield Arrow record batches while the response still arrives (memory: one batch)."""
        fmt = ResultFormat.ARROW
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return self._stream(request, ArrowStreamDecoder)

    def query_csv(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> str:
        """The result as CSV text (header row first)."""
        fmt = ResultFormat.CSV
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return self._call(request, _read_body).decode("utf-8")

    def query_csv_to_file(
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
        """Stream the CSV result into `path` (written whole or not at all); returns bytes written."""
        fmt = ResultFormat.CSV
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        target = AtomicFile(path)

        def write(chunks: Iterator[bytes]) -> int:
            written = 0
            with target.open() as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
            target.publish()
            return written

        try:
            return self._call(request, write)
        finally:
            target.discard()

    def iter_rows(
        self,
        sql: str,
        *,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        timezone: str | None = None,
        environment: Environment = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield rows as dicts from v2's NDJSON stream; an in-stream `error` line raises."""
        fmt = ResultFormat.NDJSON
        request = self._query_request(fmt, sql, min_timestamp, max_timestamp, limit, timezone, environment)
        return self._stream(request, NdjsonRowDecoder)

    # -- I/O --------------------------------------------------------------------------------------

    @contextmanager
    def _open(self, request: RequestSpec) -> Iterator[httpx.Response]:
        """Send `request`; yield the 200 response unread, or raise what a non-200 means."""
        self._pause.wait()
        try:
            with self._http.stream(
                request.method,
                request.path,
                params=request.params,
                json=request.json,
                headers=request.headers,
            ) as response:
                if response.status_code != 200:
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= MAX_ERROR_BODY:
                            break
                    raise error_from_response(
                        self.settings, request, response.status_code, response.headers, body
                    )
                yield response
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, request, mid_body=False) from exc

    def _chunks(self, response: httpx.Response, request: RequestSpec) -> Iterator[bytes]:
        """The decoded (un-gzipped) body, with a cut connection reported as an incomplete body."""
        try:
            gzip = gzip_decoder(response.headers)
            if gzip is None:
                yield from response.iter_bytes()
                return
            for raw in response.iter_raw():
                if data := gzip.decode(raw):
                    yield data
            gzip.flush()
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, request, mid_body=True) from exc

    def _call(self, request: RequestSpec, consume: Callable[[Iterator[bytes]], T]) -> T:
        """Send with retries and hand the 200 body's chunks to `consume`, which reads all of them."""
        state = RetryState(self.settings.retry)
        while True:
            try:
                with self._open(request) as response:
                    return consume(self._chunks(response, request))
            except LogfireError as exc:
                delay = self._retry_delay(state, exc, request)
                if delay is None:
                    raise
                time.sleep(delay)

    def _stream(self, request: RequestSpec, decoder: Callable[[], StreamDecoder[T]]) -> Iterator[T]:
        """Like `_call` for streams: retries only while nothing has been yielded yet."""
        state = RetryState(self.settings.retry)
        while True:
            started = False
            try:
                with self._open(request) as response:
                    for item in decode_stream(self._chunks(response, request), decoder()):
                        started = True
                        yield item
                return
            except LogfireError as exc:
                delay = None if started else self._retry_delay(state, exc, request)
                if delay is None:
                    raise
                time.sleep(delay)


def _read_body(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)
