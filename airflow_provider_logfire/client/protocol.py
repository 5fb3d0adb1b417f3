"""The Logfire query API on the wire, written once for both clients.

Request building (v1 `GET /v1/query`, v2 `POST /v2/query`), error mapping and JSON result
normalisation live here, as pure functions of settings, parameters and bytes. The sync and async
clients only move those bytes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypedDict

from airflow_provider_logfire import __version__
from airflow_provider_logfire.client.retry import parse_retry_after
from airflow_provider_logfire.client.settings import MAX_LIMIT, ClientSettings
from airflow_provider_logfire.exceptions import (
    LogfireAPIError,
    LogfireAuthError,
    LogfireBadRequestError,
    LogfireConfigError,
    LogfireDecodeError,
    LogfireNotFoundError,
    LogfireQueryError,
    LogfireRateLimitError,
    LogfireServerError,
    LogfireUsageLimitError,
)

USER_AGENT = f"airflow-provider-logfire/{__version__}"
PROBLEM_JSON = "application/problem+json"
#: v2 requires a lower bound; a query that gives none reads from the start of time.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: How much of an error body is worth reading and quoting.
MAX_ERROR_BODY = 64 * 1024

#: The error for a blank query, wherever it is first noticed.
EMPTY_SQL = "The SQL query is empty: give a SELECT statement over `records` or `metrics`."


class ResultFormat(str, enum.Enum):
    """What a query asks the server to answer with."""

    JSON = "json"  # column-oriented JSON
    JSON_ROWS = "json_rows"  # row-oriented JSON
    ARROW = "arrow"  # Arrow IPC stream
    CSV = "csv"
    NDJSON = "ndjson"  # v2 only: schema, data and end lines

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    ResultFormat.JSON: "application/json",
    ResultFormat.JSON_ROWS: "application/json",
    ResultFormat.ARROW: "application/vnd.apache.arrow.stream",
    ResultFormat.CSV: "text/csv",
    ResultFormat.NDJSON: "application/x-ndjson",
}


class ColumnInfo(TypedDict):
    name: str
    datatype: Any
    nullable: bool


class ColumnData(ColumnInfo):
    values: list[Any]


class ColumnQueryResults(TypedDict):
    """Column-oriented results: `{"columns": [{"name", "datatype", "nullable", "values"}]}`."""

    columns: list[ColumnData]


class RowQueryResults(TypedDict):
    """Row-oriented results: `{"columns": [{"name", "datatype", "nullable"}], "rows": [{...}]}`."""

    columns: list[ColumnInfo]
    rows: list[dict[str, Any]]


class ReadTokenInfo(TypedDict, total=False):
    organization_name: str
    project_name: str


@dataclass(frozen=True)
class QueryParams:
    """One query, validated before it is sent."""

    sql: str
    min_timestamp: datetime | None = None
    max_timestamp: datetime | None = None
    limit: int | None = None
    timezone: str | None = None
    environment: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sql, str) or not self.sql.strip():
            raise LogfireConfigError(EMPTY_SQL)
        if self.limit is not None and (
            isinstance(self.limit, bool)
            or not isinstance(self.limit, int)
            or not 1 <= self.limit <= MAX_LIMIT
        ):
            raise LogfireConfigError(
                f"limit must be an integer from 1 to {MAX_LIMIT:,} (the Logfire API maximum), got {self.limit!r}; "
                "to export more rows, use LogfireToFileTransfer, which splits the window into pieces."
            )
        lo = _as_utc(self.min_timestamp, "min_timestamp")
        hi = _as_utc(self.max_timestamp, "max_timestamp")
        # An equal pair is a valid, empty window: Logfire answers it with the columns and no rows.
        if lo is not None and hi is not None and lo > hi:
            raise LogfireConfigError(
                f"min_timestamp ({lo.isoformat()}) must not be later than max_timestamp ({hi.isoformat()})."
            )
        object.__setattr__(self, "min_timestamp", lo)
        object.__setattr__(self, "max_timestamp", hi)
        if isinstance(self.environment, str):
            object.__setattr__(self, "environment", (self.environment,))


def _as_utc(value: datetime | None, name: str) -> datetime | None:
    """Aware UTC datetime; a naive one is taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise LogfireConfigError(f"{name} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds, the unambiguous form for both API versions."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class RequestSpec:
    """An HTTP request, free of any client library."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """`POST /v2/query`: how the request is named in messages (no query string, no token)."""
        return f"{self.method} {self.path}"


def auth_headers(settings: ClientSettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.token.strip()}", "User-Agent": USER_AGENT}


def build_query_request(settings: ClientSettings, params: QueryParams, fmt: ResultFormat) -> RequestSpec:
    """The request for `params` in format `fmt`, for the API version of `settings`."""
    # Exactly one media type, as the official SDK sends: nothing shows that the service honours a
    # list. Error bodies come in whatever type the server picks, and are parsed defensively.
    accept = fmt.media_type
    environment = params.environment if params.environment is not None else settings.environment
    if settings.api_version == "v1":
        unsupported = [
            name for name, value in (("timezone", params.timezone), ("environment", environment)) if value
        ]
        if fmt is ResultFormat.NDJSON:
            unsupported.append("NDJSON results")
        if unsupported:
            raise LogfireConfigError(
                f"{' and '.join(unsupported)} {'needs' if len(unsupported) == 1 else 'need'} the v2 query API; "
                "this connection uses v1. "
                "Set api_version to v2 in the connection extras."
            )
        query: dict[str, str] = {"sql": params.sql}
        if params.min_timestamp is not None:
            query["min_timestamp"] = format_timestamp(params.min_timestamp)
        if params.max_timestamp is not None:
            query["max_timestamp"] = format_timestamp(params.max_timestamp)
        if params.limit is not None:
            query["limit"] = str(params.limit)
        if fmt is ResultFormat.JSON_ROWS:
            # Documented as row_oriented; the SDK used to send json_rows. Both are harmless.
            query["row_oriented"] = "true"
            query["json_rows"] = "true"
        return RequestSpec("GET", "/v1/query", params=query, headers={"Accept": accept})

    body: dict[str, Any] = {
        "sql": params.sql,
        "min_timestamp": format_timestamp(params.min_timestamp or EPOCH),
        "include_schema": True,
    }
    if params.max_timestamp is not None:
        body["max_timestamp"] = format_timestamp(params.max_timestamp)
    if params.limit is not None:
        body["limit"] = params.limit
    if params.timezone:
        body["timezone"] = params.timezone
    if environment:
        body["deployment_environment"] = list(environment)
    return RequestSpec("POST", "/v2/query", json=body, headers={"Accept": accept})


def build_info_request() -> RequestSpec:
    return RequestSpec("GET", "/v1/read-token-info", headers={"Accept": "application/json"})


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def error_from_response(
    settings: ClientSettings,
    request: RequestSpec,
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
) -> LogfireAPIError:
    """Map a non-200 answer to the exception that says what happened."""
    detail = _scrub(_extract_detail(headers, body), settings.token)
    problem = _problem(headers, body)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and problem is not None:
        member = problem.get("retry_after")
        if isinstance(member, (int, float)) and not isinstance(member, bool) and member >= 0:
            retry_after = float(member)
    where = settings.describe()
    explained = f": {detail}" if detail else ""
    common: dict[str, Any] = {"status_code": status_code, "detail": detail, "target": request.target}

    if status_code == 400:
        return LogfireQueryError(f"Logfire query failed{explained}", **common)
    if status_code in (401, 403):
        hint = settings.region_mismatch_hint() or (
            "check that the read token is correct and not expired or revoked, and that it belongs to "
            "the region of the base URL (US tokens start pylf_v1_us_, EU tokens pylf_v1_eu_)"
        )
        return LogfireAuthError(
            f"Logfire refused the read token (HTTP {status_code}) for {where}{explained}. Hint: {hint}.",
            **common,
        )
    if status_code == 402:
        return LogfireUsageLimitError(
            f"Logfire usage limit reached (HTTP 402) for {where}{explained}. "
            "Raise the spending cap in Logfire's billing settings or wait for the next period.",
            **common,
        )
    if status_code == 404:
        return LogfireNotFoundError(
            f"{request.target} does not exist on {where} (HTTP 404): check the base URL, "
            "and the API version (v1/v2) in the connection extras.",
            **common,
        )
    if status_code == 422:
        return LogfireBadRequestError(
            f"Logfire rejected the request as invalid (HTTP 422){explained}", **common
        )
    if status_code == 429:
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return LogfireRateLimitError(
            f"Logfire rate limit hit (HTTP 429) on {request.target}{wait}", retry_after=retry_after, **common
        )
    if status_code >= 500:
        return LogfireServerError(
            f"Logfire service error (HTTP {status_code}) on {request.target} at {where}{explained}",
            retry_after=retry_after,
            **common,
        )
    return LogfireAPIError(
        f"Unexpected HTTP {status_code} from {where} on {request.target}{explained}", **common
    )


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "text/plain").split(";", 1)[0].strip().lower()


def _problem(headers: Mapping[str, str], body: bytes) -> dict[str, Any] | None:
    if _media_type(headers) != PROBLEM_JSON:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _extract_detail(headers: Mapping[str, str], body: bytes) -> str:
    """The server's own explanation, as one readable line of text."""
    text = body[:MAX_ERROR_BODY].decode("utf-8", errors="replace").strip()
    media = _media_type(headers)
    if media in ("application/json", PROBLEM_JSON) or text.startswith(("{", "[")):
        try:
            return _flatten_detail(json.loads(text))
        except ValueError:
            pass
    return _shorten(" ".join(text.split()))


def _flatten_detail(value: Any) -> str:
    if isinstance(value, dict):
        if "msg" in value:  # a FastAPI/pydantic validation item: {"loc": [...], "msg": "..."}
            loc = ".".join(str(part) for part in value.get("loc", ()) if part not in ("body", "query"))
            return f"{loc}: {value['msg']}" if loc else str(value["msg"])
        for key in ("error_details", "detail", "message", "error", "title"):
            if value.get(key):
                return _flatten_detail(value[key])
        return _shorten(json.dumps(value))
    if isinstance(value, list):
        return "; ".join(_flatten_detail(item) for item in value)
    if isinstance(value, str):
        return _shorten(value.strip())
    return _shorten(json.dumps(value))


def _shorten(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scrub(text: str, token: str) -> str:
    token = token.strip()
    return text.replace(token, "***") if token and token in text else text


# ---------------------------------------------------------------------------------------------
# JSON results
# ---------------------------------------------------------------------------------------------

_DROPPED_TYPE_KEYS = frozenset({"dict_id", "dict_is_ordered", "metadata"})


def normalize_datatype(value: Any) -> Any:
    """v2's `data_type` → v1's `datatype`, recursively, without Arrow's dictionary bookkeeping."""
    if isinstance(value, dict):
        return {
            ("datatype" if key == "data_type" else key): normalize_datatype(item)
            for key, item in value.items()
            if key not in _DROPPED_TYPE_KEYS
        }
    if isinstance(value, list):
        return [normalize_datatype(item) for item in value]
    return value


def _column_info(raw: Mapping[str, Any]) -> ColumnInfo:
    datatype = raw.get("datatype", raw.get("data_type"))
    return {
        "name": raw["name"],
        "datatype": normalize_datatype(datatype),
        "nullable": bool(raw.get("nullable", True)),
    }


def parse_json_result(payload: Any, fmt: ResultFormat) -> ColumnQueryResults | RowQueryResults:
    """Normalise a v1 or v2 JSON body to the column- or row-oriented shape `fmt` asks for."""
    try:
        if "schema" in payload:  # v2: {"schema": {"fields": [...]}, "data": [...]}
            columns = [_column_info(f) for f in payload["schema"]["fields"]]
            rows = payload["data"]
            values = None
        elif "rows" in payload:  # v1 row-oriented
            columns = [_column_info(c) for c in payload["columns"]]
            rows = payload["rows"]
            values = None
        else:  # v1 column-oriented
            columns = [_column_info(c) for c in payload["columns"]]
            values = [c.get("values", []) for c in payload["columns"]]
            rows = None
    except (KeyError, TypeError) as exc:
        raise LogfireDecodeError(f"Unexpected JSON result shape from Logfire: missing {exc}") from exc

    names = [c["name"] for c in columns]
    if fmt is ResultFormat.JSON_ROWS:
        if rows is None:
            count = len(values[0]) if values else 0
            rows = [
                {name: column[i] for name, column in zip(names, values, strict=True)} for i in range(count)
            ]
        return {"columns": columns, "rows": rows}
    if values is None:
        values = [[row.get(name) for row in rows] for name in names]
    return {"columns": [{**c, "values": v} for c, v in zip(columns, values, strict=True)]}


def parse_info(payload: Any) -> ReadTokenInfo:
    if not isinstance(payload, dict) or "project_name" not in payload:
        raise LogfireDecodeError("The read-token-info response lacks organization_name/project_name")
    return {
        "organization_name": str(payload.get("organization_name", "")),
        "project_name": str(payload["project_name"]),
    }


def decode_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        preview = body[:200].decode("utf-8", errors="replace")
        raise LogfireDecodeError(f"Logfire sent {what} that is not valid JSON: {preview!r}") from exc
