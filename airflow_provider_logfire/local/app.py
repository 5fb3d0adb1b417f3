"""The HTTP face of the local server: Logfire's query API, answered from a `LocalEngine`.

The app only validates requests, picks a response format and streams the engine's batches
through an encoder. Statuses and bodies follow Logfire: 400 `{"detail": ...}` for a failing
query, 401 `{"detail": "Invalid read token"}` (as recorded from the service), 422 with pydantic-style `detail` lists for invalid
parameters. A query runs, and its first batch is fetched, before any header is sent, so its
errors get a real status code; later failures end an NDJSON answer with an `error` line and cut
any other format short (the client sees an incomplete body, never a short "complete" one).

v2 `explain: true` is answered only as NDJSON (an `explain` line after the schema, holding
DataFusion's plan); with any other format it is a 422. v2 `include_schema: false` drops the
`schema` object from a JSON answer; NDJSON always starts with its schema line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_provider_logfire.client.settings import DEFAULT_LIMITS, MAX_LIMIT
from airflow_provider_logfire.local import otlp, responses
from airflow_provider_logfire.local.compression import gzip_middleware
from airflow_provider_logfire.local.engine import (
    InvalidParameterError,
    LoadError,
    LocalEngine,
    LocalQueryError,
    QueryResult,
)
from airflow_provider_logfire.local.tables import schemas_document

#: Paths answered without a token.
PUBLIC_PATHS = frozenset({"/health"})

_V1_FORMATS = (responses.JSON, responses.CSV, responses.ARROW)
_V2_FORMATS = (responses.JSON, responses.NDJSON, responses.CSV, responses.ARROW)
_MEDIA_TYPES = {
    responses.JSON: "application/json",
    responses.NDJSON: "application/x-ndjson",
    responses.CSV: "text/csv; charset=utf-8",
    responses.ARROW: responses.ARROW,
}
#: A time of day, then a space where a URL-decoded `+` was, then the offset.
_UNESCAPED_PLUS = re.compile(r"^(.*\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def create_app(
    engine: LocalEngine,
    *,
    token: str,
    latency_ms: int = 0,
    gzip: bool = True,
    organization_name: str = "local",
    project_name: str = "demo",
    otlp_max_body_bytes: int = otlp.DEFAULT_MAX_BODY_BYTES,
    bounds: str = "[)",
) -> Starlette:
    """A Starlette app serving Logfire's query API from `engine`, guarded by `token`.

    It also ingests OTLP/HTTP (`POST /v1/traces`, `/v1/logs`, `/v1/metrics`) into the engine,
    refusing bodies over `otlp_max_body_bytes` (counted after decompression) with a 413.
    `bounds` is how `min_timestamp`/`max_timestamp` include their edges: `"[)"` (half-open, the
    engine's own), `"[]"`, `"(]"` or `"()"`. Logfire does not document its bounds, so tests serve
    the others to prove that a client does not depend on them.
    """
    if not token:
        raise ValueError("The local server needs a non-empty read token")
    if bounds not in _BOUND_SHIFTS:
        raise ValueError(f"bounds must be one of {', '.join(_BOUND_SHIFTS)}, got {bounds!r}")
    shifts = _BOUND_SHIFTS[bounds]
    token_info = _token_info(organization_name, project_name)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def read_token_info(request: Request) -> Response:
        return JSONResponse(token_info)

    async def schemas(request: Request) -> Response:
        return JSONResponse(schemas_document())

    async def query_v1(request: Request) -> Response:
        try:
            chosen = _negotiate(request, _V1_FORMATS)
            query = _v1_query(request)
        except _Rejected as rejected:
            return rejected.response
        return await _answer(engine, _shifted(query, shifts), chosen, version=1)

    async def query_v2(request: Request) -> Response:
        try:
            chosen = _negotiate(request, _V2_FORMATS)
            query = _v2_query(await request.body())
            if query.explain and chosen != responses.NDJSON:
                raise _invalid(
                    ("body", "explain"),
                    "explain is only supported with Accept: application/x-ndjson",
                    "value_error",
                )
        except _Rejected as rejected:
            return rejected.response
        return await _answer(engine, _shifted(query, shifts), chosen, version=2)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/read-token-info", read_token_info, methods=["GET"]),
        Route("/v1/schemas", schemas, methods=["GET"]),
        Route("/v1/query", query_v1, methods=["GET"]),
        Route("/v2/query", query_v2, methods=["POST"]),
        *_otlp_routes(engine, project_name=project_name, max_body_bytes=otlp_max_body_bytes),
    ]
    middleware = []
    if gzip:
        middleware.append(Middleware(gzip_middleware(), minimum_size=1024))
    if latency_ms > 0:
        middleware.append(Middleware(_Latency, seconds=latency_ms / 1000))
    middleware.append(Middleware(_TokenAuth, token=token))
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error})


def _token_info(organization_name: str, project_name: str) -> dict[str, Any]:
    """The `/v1/read-token-info` body, with the fields the service answers with.

    Ids are stable per name, never derived from the token; a local token never expires and has
    no billing cycle or spending cap.
    """

    def stable_id(kind: str, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"logfire-local:{kind}:{name}"))

    project = f"{organization_name}/{project_name}"
    return {
        "token_id": stable_id("read-token", project),
        "organization_id": stable_id("organization", organization_name),
        "organization_name": organization_name,
        "organization_subscription_plan": "local",
        "project_id": stable_id("project", project),
        "project_name": project_name,
        "expires_at": None,
        "spending_cap_reached_at": None,
        "billing_cycle_start": None,
        "billing_cycle_end": None,
        "organization_analytics_enabled": False,
        "owner_user_id": stable_id("user", organization_name),
    }


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


# -- OTLP ingest (what instrumented applications write to) ---------------------------------


def _otlp_routes(engine: LocalEngine, *, project_name: str, max_body_bytes: int) -> list[Route]:
    """`POST /v1/{traces,logs,metrics}`, answered like an OpenTelemetry collector, and the
    `GET /v1/info` the Logfire SDK calls to check its write token.

    A request is read and decoded completely before one insert writes it, so a bad one writes
    nothing. Decoding and inserting run in worker threads; the engine serialises inserts.
    """

    def ingest(signal: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _read_body(request, max_body_bytes)
                batch = await run_in_threadpool(
                    otlp.decode_request,
                    signal,
                    body,
                    content_type=request.headers.get("content-type"),
                    content_encoding=request.headers.get("content-encoding"),
                    max_bytes=max_body_bytes,
                )
                if batch.rows.num_rows:
                    await run_in_threadpool(engine.insert_arrow, batch.table, batch.rows, keep_sorted=False)
            except otlp.OtlpRequestError as exc:
                return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
            except LoadError as exc:
                return JSONResponse({"detail": str(exc)}, status_code=400)
            return Response(batch.response_body, media_type=batch.media_type)

        return endpoint

    async def write_token_info(request: Request) -> Response:
        return JSONResponse({"project_name": project_name, "project_url": str(request.base_url)})

    return [
        *(Route(f"/v1/{signal}", ingest(signal), methods=["POST"]) for signal in otlp.SIGNALS),
        Route("/v1/info", write_token_info, methods=["GET"]),
    ]


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise otlp.body_too_large(max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise otlp.body_too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


# -- middleware ----------------------------------------------------------------------------


class _TokenAuth:
    """Refuse every request but the public paths unless it carries the read token.

    Accepted: `Authorization: Bearer <token>` and the raw token (what the official SDK sends).
    """

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self._app = app
        self._token = token.encode()

    def __repr__(self) -> str:
        return "_TokenAuth(token=<hidden>)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS or self._accepts(scope):
            await self._app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "Invalid read token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)

    def _accepts(self, scope: Scope) -> bool:
        presented = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                presented = value.strip()
                break
        scheme, _, rest = presented.partition(b" ")
        if scheme.lower() == b"bearer" and rest:
            presented = rest.strip()
        return hmac.compare_digest(presented, self._token)


class _Latency:
    """Wait before answering, like a service on the other side of the internet would."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self._app = app
        self._seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in PUBLIC_PATHS:
            await asyncio.sleep(self._seconds)
        await self._app(scope, receive, send)


# -- requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    sql: str
    min_timestamp: datetime | None
    max_timestamp: datetime | None
    limit: int
    timezone: str | None = None
    environments: list[str] | None = None
    explain: bool = False
    include_schema: bool = True
    row_oriented: bool = False


class _Rejected(Exception):
    """A request answered with an error before any query runs."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _invalid(loc: tuple[str | int, ...], msg: str, kind: str, value: Any = None) -> _Rejected:
    return _unprocessable([_error(loc, msg, kind, value)])


def _error(loc: tuple[str | int, ...], msg: str, kind: str, value: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg}
    if value is not None:
        error["input"] = value
    return error


def _unprocessable(errors: list[dict[str, Any]]) -> _Rejected:
    return _Rejected(JSONResponse({"detail": errors}, status_code=422))


def _negotiate(request: Request, offered: tuple[str, ...]) -> str:
    chosen = responses.negotiate(request.headers.get("accept"), offered)
    if chosen is None:
        detail = (
            f"None of the media types in the Accept header is supported; use one of: {', '.join(offered)}"
        )
        raise _Rejected(JSONResponse({"detail": detail}, status_code=406))
    return chosen


class _Fields:
    """Reads request fields one by one, collecting pydantic-style errors instead of stopping."""

    def __init__(self, source: str, values: dict[str, Any]) -> None:
        self.source = source
        self.values = values
        self.errors: list[dict[str, Any]] = []

    def get(
        self, name: str, parse: Callable[[Any], Any], *, default: Any = None, required: bool = False
    ) -> Any:
        value = self.values.get(name)
        if value is None:
            if required:
                self.errors.append(_error((self.source, name), "Field required", "missing"))
            return default
        try:
            return parse(value)
        except _FieldError as exc:
            self.errors.append(_error((self.source, name), exc.msg, exc.kind, value))
            return default

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise _unprocessable(self.errors)


class _FieldError(ValueError):
    def __init__(self, msg: str, kind: str) -> None:
        super().__init__(msg)
        self.msg = msg
        self.kind = kind


def _v1_query(request: Request) -> _Query:
    params = request.query_params
    fields = _Fields("query", dict(params))
    sql = fields.get("sql", _parse_str, required=True)
    min_timestamp = fields.get("min_timestamp", _parse_timestamp)
    max_timestamp = fields.get("max_timestamp", _parse_timestamp)
    limit = fields.get("limit", _parse_limit, default=DEFAULT_LIMITS["v1"])
    row_oriented = fields.get("row_oriented", _parse_bool, default=False)
    json_rows = fields.get("json_rows", _parse_bool, default=False)
    fields.raise_if_invalid()
    return _Query(sql, min_timestamp, max_timestamp, limit, row_oriented=row_oriented or json_rows)


def _v2_query(body: bytes) -> _Query:
    try:
        values = json.loads(body) if body.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        raise _invalid(("body", position), f"JSON decode error: {exc}", "json_invalid") from None
    if not isinstance(values, dict):
        raise _invalid(("body",), "Input should be a valid dictionary or object", "model_attributes_type")
    fields = _Fields("body", values)
    sql = fields.get("sql", _parse_str, required=True)
    min_timestamp = fields.get("min_timestamp", _parse_timestamp, required=True)
    max_timestamp = fields.get("max_timestamp", _parse_timestamp)
    limit = fields.get("limit", _parse_limit, default=DEFAULT_LIMITS["v2"])
    tz = fields.get("timezone", _parse_str)
    environments = fields.get("deployment_environment", _parse_str_list)
    explain = fields.get("explain", _parse_bool, default=False)
    include_schema = fields.get("include_schema", _parse_bool, default=True)
    fields.raise_if_invalid()
    return _Query(sql, min_timestamp, max_timestamp, limit, tz, environments, explain, include_schema)


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _FieldError("Input should be a valid string", "string_type")
    return value


def _parse_str_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _FieldError("Input should be a valid list", "list_type")
    return [_parse_str(item) for item in value]


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _FieldError("Input should be a valid boolean", "bool_parsing")


def _parse_limit(value: Any) -> int:
    if isinstance(value, bool):
        raise _FieldError("Input should be a valid integer", "int_type")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value)
    else:
        raise _FieldError(
            "Input should be a valid integer, unable to parse string as an integer", "int_parsing"
        )
    if number < 1:
        raise _FieldError("Input should be greater than or equal to 1", "greater_than_equal")
    if number > MAX_LIMIT:
        raise _FieldError(f"Input should be less than or equal to {MAX_LIMIT}", "less_than_equal")
    return number


def _parse_timestamp(value: Any) -> datetime:
    """ISO 8601 text (a trailing `Z` is UTC; no offset means UTC) or Unix seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise _FieldError("Input should be a valid datetime, out of range", "datetime_parsing") from None
    if not isinstance(value, str):
        raise _FieldError("Input should be a valid datetime", "datetime_type")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    elif _UNESCAPED_PLUS.match(text):
        # `?min_timestamp=...T00:00:00+01:00` sent without URL-encoding: the `+` arrived as a space.
        text = _UNESCAPED_PLUS.sub(r"\1+\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _FieldError("Input should be a valid datetime in ISO 8601 format", "datetime_parsing") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


# -- answers -------------------------------------------------------------------------------


#: For each bound style, what to add to `min_timestamp`/`max_timestamp` so that the engine's
#: half-open window `[min, max)` serves it (timestamps are microseconds).
_BOUND_SHIFTS: dict[str, tuple[timedelta, timedelta]] = {
    "[)": (timedelta(0), timedelta(0)),
    "[]": (timedelta(0), timedelta(microseconds=1)),
    "(]": (timedelta(microseconds=1), timedelta(microseconds=1)),
    "()": (timedelta(microseconds=1), timedelta(0)),
}


def _shifted(query: _Query, shifts: tuple[timedelta, timedelta]) -> _Query:
    low, high = shifts
    if not (low or high):
        return query
    return dataclasses.replace(
        query,
        min_timestamp=None if query.min_timestamp is None else query.min_timestamp + low,
        max_timestamp=None if query.max_timestamp is None else query.max_timestamp + high,
    )


async def _answer(engine: LocalEngine, query: _Query, chosen: str, *, version: int) -> Response:
    try:
        result = await run_in_threadpool(
            engine.query,
            query.sql,
            min_timestamp=query.min_timestamp,
            max_timestamp=query.max_timestamp,
            limit=query.limit,
            timezone=query.timezone,
            environments=query.environments,
            explain=query.explain,
        )
    except LocalQueryError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    except InvalidParameterError as exc:
        return _invalid(("body", exc.field), str(exc), "value_error").response
    body = _body(result, query, chosen, version)
    return _ResultResponse(result, body, media_type=_MEDIA_TYPES[chosen])


def _body(result: QueryResult, query: _Query, chosen: str, version: int) -> Iterator[bytes]:
    """The encoder for the negotiated format and API version, over the result's batches."""
    if chosen == responses.CSV:
        return responses.csv_stream(result.schema, result)
    if chosen == responses.ARROW:
        return responses.arrow_stream(result.schema, result)
    if chosen == responses.NDJSON:
        return responses.v2_ndjson(result.schema, result, plan=result.plan)
    if version == 2:
        return responses.v2_json(result.schema, result, include_schema=query.include_schema)
    if query.row_oriented:
        return responses.v1_json_rows(result.schema, result)
    return responses.v1_json_columns(result.schema, result)


class _ResultResponse(StreamingResponse):
    """A streamed query answer that always releases its query, even if the client goes away."""

    def __init__(self, result: QueryResult, body: Iterator[bytes], *, media_type: str) -> None:
        super().__init__(body, media_type=media_type)
        self._result = result

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await run_in_threadpool(self._result.close)
