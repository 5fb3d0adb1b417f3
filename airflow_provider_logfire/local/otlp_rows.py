"""Rows of `records` from decoded OTLP traces and logs, mapped the way Logfire maps them.

(Metrics: `otlp_metrics`, which shares `scoped_items` here and the value helpers of `otlp_values`.)

The mapping follows Logfire's: a span is a `records` row with its name in `span_name`, the
`logfire.msg` attribute (else the name) in `message`, `logfire.level_num` (else error 17 for an
ERROR status, else info 9) in `level`, `logfire.tags` in `tags`, and `logfire.span_type` in `kind`
(pending spans, which the SDK sends while a span is still open, are stored with
`kind = 'pending_span'`: `records_all` shows them, `records` does not, as on Logfire). The first
`exception` event fills `is_exception` and `exception_*`; every event, as in the demo data, is
kept in `otel_events`, and each event not named `exception` is also a row of its own
(`kind = 'span_event'`, see `span_event_rows`). An OpenTelemetry log record is a `kind='log'`
row whose body is `log_body`, whose severity number is its level (Logfire's levels are OTel
severity numbers),
and whose span is its parent. Attributes not used for bookkeeping land in `attributes` as JSON,
values the SDK had to JSON-encode (declared in `logfire.json_schema`) parsed back into objects.
`created_at`, `day` and `project_id` are left to `LocalEngine.insert_arrow`, which fills them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pyarrow as pa

from airflow_provider_logfire.local.otlp_values import (
    any_value,
    attribute_map,
    compact_json,
    hex_id,
    int32,
    iso_time,
    json_or_none,
    micros,
    rows_table,
    text_or_json,
)
from airflow_provider_logfire.local.tables import RECORDS

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

TRACE = 1
DEBUG = 5
INFO = 9
NOTICE = 10
WARN = 13
ERROR = 17
FATAL = 21
_LEVEL_NAMES = {
    "trace": TRACE,
    "debug": DEBUG,
    "info": INFO,
    "notice": NOTICE,
    "warn": WARN,
    "warning": WARN,
    "error": ERROR,
    "fatal": FATAL,
    "critical": FATAL,
}

#: `logfire.*` attributes that only steer how the SDK and the backend treat a span; they become
#: columns or mean nothing once stored, so they stay out of `attributes`.
_BOOKKEEPING = frozenset(
    {
        "logfire.msg",
        "logfire.level_num",
        "logfire.level_name",
        "logfire.span_type",
        "logfire.tags",
        "logfire.json_schema",
        "logfire.pending_parent_id",
        "logfire.disable_console_log",
        "logfire.sample_rate",
    }
)
_MSG_TEMPLATE = "logfire.msg_template"
_STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}


# -- traces ------------------------------------------------------------------------------------


def spans_to_records(request: ExportTraceServiceRequest) -> pa.Table:
    """One `records` row per span of the request (pending spans with `kind = 'pending_span'`),
    and one per span event that is not an exception (`kind = 'span_event'`)."""
    rows = []
    for resource, scope, span in scoped_items(request.resource_spans, "scope_spans", "spans"):
        attributes = attribute_map(span.attributes)
        span_type = attributes.get("logfire.span_type")
        kind = span_type if span_type in ("log", "pending_span") else "span"
        start_ns = span.start_time_unix_nano
        end_ns = span.end_time_unix_nano or start_ns
        status = _STATUS_NAMES.get(span.status.code, "UNSET")
        level = _level_attribute(attributes)
        if level is None:
            level = ERROR if status == "ERROR" else INFO
        span_row = {
            "start_timestamp": micros(start_ns),
            "end_timestamp": micros(end_ns),
            "duration": None if kind != "span" else (end_ns - start_ns) / 1e9,
            "trace_id": hex_id(span.trace_id),
            "span_id": hex_id(span.span_id),
            "parent_span_id": hex_id(span.parent_span_id),
            "kind": kind,
            "level": level,
            "span_name": span.name,
            "message": _message(attributes, span.name),
            "tags": _tags(attributes),
            "attributes": _user_attributes(attributes, span.name),
            "attributes_json_schema": _json_schema_text(attributes),
            **_exception_columns(_first_exception(span.events)),
            "otel_status_code": status,
            "otel_status_message": span.status.message or None,
            "otel_events": json_or_none([_event(e) for e in span.events]),
            "otel_links": json_or_none([_link(link) for link in span.links]),
            **scope,
            **resource,
            **_http_columns(attributes),
        }
        rows.append(span_row)
        if kind != "pending_span":  # the finished span brings the same events again
            rows.extend(span_event_rows(span, span_row, {**scope, **resource}))
    return rows_table(RECORDS, rows)


def span_event_rows(
    span: Any, span_row: Mapping[str, Any], shared: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The `kind = 'span_event'` rows of a span: one per event not named `exception`.

    Logfire's SQL reference says only that span events are copied into rows of their own
    (exceptions become the span's `is_exception` instead). The rest is the local server's
    choice, made to look like a log written inside the span: the event's time is both
    timestamps (no duration), its name the `span_name` and `message` (unless it carries
    `logfire.msg`), its attributes the `attributes`, its level `logfire.level_num` or info,
    no status, events or links of its own. It belongs to the span's trace, with the span as
    its parent and an id of its own, derived from the span's id and the event's position so
    that the same span sent twice gives the same rows. Scope and resource are the span's.
    """
    rows = []
    for index, event in enumerate(span.events):
        if event.name == "exception":
            continue
        attributes = attribute_map(event.attributes)
        at = micros(event.time_unix_nano) if event.time_unix_nano else span_row["start_timestamp"]
        level = _level_attribute(attributes)
        rows.append(
            {
                "start_timestamp": at,
                "end_timestamp": at,
                "duration": None,
                "trace_id": span_row["trace_id"],
                "span_id": _event_span_id(span.trace_id, span.span_id, index),
                "parent_span_id": span_row["span_id"],
                "kind": "span_event",
                "level": INFO if level is None else level,
                "span_name": event.name,
                "message": _message(attributes, event.name),
                "tags": _tags(attributes),
                "attributes": _user_attributes(attributes, event.name),
                "attributes_json_schema": _json_schema_text(attributes),
                "is_exception": False,
                **shared,
                **_http_columns(attributes),
            }
        )
    return rows


def _event_span_id(trace_id: bytes, span_id: bytes, index: int) -> str:
    """16 hex characters naming the `index`-th event of a span, the same on every delivery."""
    digest = hashlib.blake2b(trace_id + span_id + index.to_bytes(4, "big"), digest_size=8).digest()
    return digest.hex() if digest.strip(b"\x00") else "0000000000000001"


def _first_exception(events: Iterable[Any]) -> dict[str, Any] | None:
    """The attributes of the first `exception` event: Logfire's SQL reference derives the
    `exception_*` columns from the first such event."""
    for event in events:
        if event.name == "exception":
            return attribute_map(event.attributes)
    return None


def _exception_columns(exception: Mapping[str, Any] | None) -> dict[str, Any]:
    """`is_exception` and `exception_*` from the semantic-convention attributes of an exception."""
    if exception is None:
        return {"is_exception": False}
    return {
        "is_exception": True,
        "exception_type": text_or_json(exception.get("exception.type")),
        "exception_message": text_or_json(exception.get("exception.message")),
        "exception_stacktrace": text_or_json(exception.get("exception.stacktrace")),
    }


def _event(event: Any) -> dict[str, Any]:
    return {
        "name": event.name,
        "timestamp": iso_time(event.time_unix_nano),
        "attributes": attribute_map(event.attributes),
    }


def _link(link: Any) -> dict[str, Any]:
    return {
        "trace_id": hex_id(link.trace_id),
        "span_id": hex_id(link.span_id),
        "attributes": attribute_map(link.attributes),
    }


# -- logs --------------------------------------------------------------------------------------


def logs_to_records(request: ExportLogsServiceRequest) -> pa.Table:
    """One `records` row (`kind='log'`) per OpenTelemetry log record of the request.

    A record written inside a span gets that span as its parent and an id of its own, so that
    `span_id` stays unique; outside a trace it gets a fresh trace id too.
    """
    received_ns = time.time_ns()
    rows = []
    for resource, scope, record in scoped_items(request.resource_logs, "scope_logs", "log_records"):
        attributes = attribute_map(record.attributes)
        body = any_value(record.body) if record.HasField("body") else None
        body_text = text_or_json(body)
        at = micros(record.time_unix_nano or record.observed_time_unix_nano or received_ns)
        level = _level_attribute(attributes)
        if level is None:
            level = _severity_level(record.severity_number, record.severity_text)
        span_name = (
            text_or_json(attributes.get(_MSG_TEMPLATE))
            or getattr(record, "event_name", "")
            or body_text
            or ""
        )
        has_exception = any(key.startswith("exception.") for key in attributes)
        rows.append(
            {
                "start_timestamp": at,
                "end_timestamp": at,
                "duration": None,
                "trace_id": hex_id(record.trace_id) or os.urandom(16).hex(),
                "span_id": os.urandom(8).hex(),
                "parent_span_id": hex_id(record.span_id),
                "kind": "log",
                "level": level,
                "span_name": span_name,
                "message": _message(attributes, body_text or span_name),
                "log_body": body_text,
                "tags": _tags(attributes),
                "attributes": _user_attributes(attributes, span_name),
                **_exception_columns(attributes if has_exception else None),
                **scope,
                **resource,
                **_http_columns(attributes),
            }
        )
    return rows_table(RECORDS, rows)


def _severity_level(number: int, text: str) -> int:
    """Logfire's levels are OpenTelemetry severity numbers (1-24); else read the severity text."""
    if 1 <= number <= 24:
        return number
    return _LEVEL_NAMES.get(text.strip().lower(), INFO)


# -- columns shared by every row of a resource or scope ------------------------------------------


def _resource_columns(resource: Resource) -> dict[str, Any]:
    attributes = attribute_map(resource.attributes)

    def text(*keys: str) -> str | None:
        for key in keys:
            if (value := text_or_json(attributes.get(key))) is not None:
                return value
        return None

    return {
        "otel_resource_attributes": compact_json(attributes),
        "service_name": text("service.name") or "unknown_service",
        "service_version": text("service.version"),
        "service_namespace": text("service.namespace"),
        "service_instance_id": text("service.instance.id"),
        "process_pid": int32(attributes.get("process.pid")),
        "deployment_environment": text("deployment.environment.name", "deployment.environment"),
        "telemetry_sdk_name": text("telemetry.sdk.name"),
        "telemetry_sdk_language": text("telemetry.sdk.language"),
        "telemetry_sdk_version": text("telemetry.sdk.version"),
    }


def scoped_items(
    groups: Iterable[Any], scopes: str, items: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Any]]:
    """`(resource columns, scope columns, item)` for each item of an OTLP export request.

    Traces, logs and metrics nest alike: resource groups hold scope groups (`scopes`, e.g.
    "scope_spans") that hold the items (`items`, e.g. "spans").
    """
    for group in groups:
        resource = _resource_columns(group.resource)
        for scope_group in getattr(group, scopes):
            scope = _scope_columns(scope_group.scope)
            for item in getattr(scope_group, items):
                yield resource, scope, item


def _scope_columns(scope: InstrumentationScope) -> dict[str, Any]:
    attributes = attribute_map(scope.attributes)
    return {
        "otel_scope_name": scope.name or None,
        "otel_scope_version": scope.version or None,
        "otel_scope_attributes": compact_json(attributes) if attributes else None,
    }


def _http_columns(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The HTTP semantic-convention columns, from current attribute names or their old ones."""

    def first(*keys: str) -> Any:
        return next((attributes[k] for k in keys if attributes.get(k) is not None), None)

    target = text_or_json(first("http.target"))
    parts = urlsplit(target) if target else None
    return {
        "http_response_status_code": int32(first("http.response.status_code", "http.status_code")),
        "http_method": text_or_json(first("http.request.method", "http.method")),
        "http_route": text_or_json(first("http.route")),
        "url_full": text_or_json(first("url.full", "http.url")),
        "url_path": text_or_json(first("url.path")) or (parts.path or None if parts else None),
        "url_query": text_or_json(first("url.query")) or (parts.query or None if parts else None),
    }


# -- attribute values --------------------------------------------------------------------------


def _level_attribute(attributes: Mapping[str, Any]) -> int | None:
    level = attributes.get("logfire.level_num")
    if isinstance(level, bool) or not isinstance(level, (int, float, str)):
        return None
    try:
        return int32(int(level))
    except (ValueError, OverflowError):
        return None


def _message(attributes: Mapping[str, Any], fallback: str) -> str:
    message = attributes.get("logfire.msg")
    return message if isinstance(message, str) else fallback


def _tags(attributes: Mapping[str, Any]) -> list[str]:
    """`logfire.tags` as a list; `[]` for a span without tags, as Logfire stores it."""
    tags = attributes.get("logfire.tags")
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not tags:
        return []
    return [tag if isinstance(tag, str) else compact_json(tag) for tag in tags]


def _user_attributes(attributes: Mapping[str, Any], span_name: str) -> str:
    """The `attributes` JSON: everything but bookkeeping, SDK-encoded values decoded again.

    The message template is kept only where it tells more than the span name (the SDK names a
    span after its template unless told otherwise).
    """
    encoded = _json_encoded_keys(attributes.get("logfire.json_schema"))
    kept: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _BOOKKEEPING or (key == _MSG_TEMPLATE and value == span_name):
            continue
        if key in encoded and isinstance(value, str):
            kept[key] = _loads_or_keep(value)
        else:
            kept[key] = value
    return compact_json(kept)


def _json_schema_text(attributes: Mapping[str, Any]) -> str | None:
    """The SDK's `logfire.json_schema` attribute, kept as the text it sent."""
    schema = attributes.get("logfire.json_schema")
    return schema if isinstance(schema, str) else None


def _loads_or_keep(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_encoded_keys(json_schema: Any) -> frozenset[str]:
    """Attributes the SDK sent as JSON text: those its JSON schema describes (plain str/int/float/
    bool values get an empty schema and are sent as they are)."""
    if not isinstance(json_schema, str):
        return frozenset()
    try:
        properties = json.loads(json_schema).get("properties")
    except (ValueError, AttributeError):
        return frozenset()
    if not isinstance(properties, dict):
        return frozenset()
    return frozenset(key for key, schema in properties.items() if schema)
