"""OTLP ingest for the local server: OTLP/HTTP request bodies → Arrow rows of `records` / `metrics`.

This is what lets an application instrumented with the Logfire SDK (or any OpenTelemetry SDK)
write to the local server: `logfire.configure(advanced=logfire.AdvancedOptions(base_url=...))`
sends `/v1/traces`, `/v1/logs` and `/v1/metrics` here. Nothing in this module does I/O: bytes
in, one Arrow table out, no HTTP and no database, so the app can decode a whole request before it
writes anything (a bad request never leaves half of itself behind).

This module reads the request (content type, compression, size limit, protobuf or OTLP/JSON);
`otlp_rows` maps the decoded messages to rows the way Logfire does.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_provider_logfire.exceptions import LocalServerError
from airflow_provider_logfire.local.otlp_metrics import metrics_to_rows
from airflow_provider_logfire.local.otlp_rows import logs_to_records, spans_to_records
from airflow_provider_logfire.local.otlp_values import UnstorableValueError
from airflow_provider_logfire.local.tables import METRICS, RECORDS

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: Largest request body accepted, counted after decompression (and before it, too).
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
#: The signals, by the last part of their path (`/v1/traces`...).
SIGNALS = ("traces", "logs", "metrics")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class OtlpRequestError(LocalServerError):
    """An OTLP request the server refuses; `status_code` is the HTTP status to answer with.

    400 for a body that is not OTLP (or not valid gzip), 413 for one over the size limit, 415
    for a content type or encoding the server does not read, 501 if opentelemetry-proto is missing.
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class OtlpBatch:
    """A decoded request: the rows for one table, and the success response to send back."""

    table: str
    rows: pa.Table
    response_body: bytes
    media_type: str


def decode_request(
    signal: str,
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> OtlpBatch:
    """Decompress and parse an OTLP/HTTP body of `signal` (`traces`, `logs`, `metrics`) into rows.

    A missing content type is read as protobuf. Raises OtlpRequestError, naming what is wrong.
    """
    if signal not in SIGNALS:
        raise ValueError(f"Unknown OTLP signal {signal!r}; expected one of {', '.join(SIGNALS)}")
    media_type = _media_type(content_type)
    payload = decompress(body, content_encoding, max_bytes=max_bytes)
    request_class, response_class = _message_classes(signal)
    message = _parse(payload, media_type, request_class)
    try:
        if signal == "traces":
            table, rows = RECORDS.name, spans_to_records(message)
        elif signal == "logs":
            table, rows = RECORDS.name, logs_to_records(message)
        else:
            table, rows = METRICS.name, metrics_to_rows(message)
    except UnstorableValueError as exc:
        raise OtlpRequestError(400, str(exc)) from None
    response = b"{}" if media_type == JSON else response_class().SerializeToString()
    return OtlpBatch(table, rows, response, media_type)


# -- the body ----------------------------------------------------------------------------------


def decompress(
    body: bytes, content_encoding: str | None, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> bytes:
    """Undo `Content-Encoding` (`gzip`, `deflate`, `identity`, or a list of them).

    Never inflates past `max_bytes`, so a small gzip bomb costs no memory.
    """
    if len(body) > max_bytes:
        raise body_too_large(max_bytes)
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
    for encoding in reversed(encodings):  # the last encoding listed was applied last
        if encoding in ("gzip", "x-gzip"):
            body = _inflate(body, zlib.MAX_WBITS | 16, "gzip", max_bytes)
        elif encoding == "deflate":
            body = _inflate(body, zlib.MAX_WBITS, "deflate", max_bytes)
        elif encoding != "identity":
            raise OtlpRequestError(
                415, f"Unsupported Content-Encoding {encoding!r}; send gzip, deflate or no encoding"
            )
    return body


def _inflate(data: bytes, wbits: int, name: str, max_bytes: int) -> bytes:
    """Decompress every member of a gzip/zlib stream, refusing output beyond `max_bytes`."""
    if not data:
        return data
    out = bytearray()
    remaining = data
    try:
        while True:
            inflater = zlib.decompressobj(wbits)
            out += inflater.decompress(remaining, max_bytes + 1 - len(out))
            if len(out) > max_bytes or inflater.unconsumed_tail:
                raise body_too_large(max_bytes)
            if not inflater.eof:
                raise OtlpRequestError(400, f"The {name} body is truncated")
            remaining = inflater.unused_data
            if not remaining.strip(b"\x00"):  # trailing zero padding is tolerated, as by gzip(1)
                return bytes(out)
    except zlib.error as exc:
        raise OtlpRequestError(400, f"The body is not valid {name} data: {exc}") from None


def body_too_large(max_bytes: int) -> OtlpRequestError:
    """The 413 error, shared with the app, which also counts bytes while the body arrives."""
    return OtlpRequestError(413, f"The request body is larger than the limit of {max_bytes} bytes")


def _media_type(content_type: str | None) -> str:
    essence = (content_type or PROTOBUF).split(";")[0].strip().lower()
    if essence in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if essence == JSON:
        return JSON
    raise OtlpRequestError(
        415, f"Unsupported Content-Type {essence!r}; send {PROTOBUF} (or {JSON} for OTLP/JSON)"
    )


def _message_classes(signal: str) -> tuple[type[Message], type[Message]]:
    """The request and response messages of a signal, imported only when ingest is used."""
    try:
        if signal == "traces":
            from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as traces

            return traces.ExportTraceServiceRequest, traces.ExportTraceServiceResponse
        if signal == "logs":
            from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs

            return logs.ExportLogsServiceRequest, logs.ExportLogsServiceResponse
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics

        return metrics.ExportMetricsServiceRequest, metrics.ExportMetricsServiceResponse
    except ImportError as exc:
        raise OtlpRequestError(
            501, f"OTLP ingest needs opentelemetry-proto ({exc}); install airflow-provider-logfire[local]"
        ) from None


def _parse(payload: bytes, media_type: str, request_class: type[Message]) -> Any:
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from google.protobuf.unknown_fields import UnknownFieldSet

    what = request_class.DESCRIPTOR.name
    message = request_class()
    if media_type == JSON:
        try:
            document = json.loads(payload) if payload.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise OtlpRequestError(400, f"The body is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise OtlpRequestError(400, f"An OTLP/JSON {what} must be a JSON object")
        try:
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError, RecursionError) as exc:
            raise OtlpRequestError(400, f"The body is not a valid OTLP/JSON {what}: {exc}") from None
        return message
    try:
        message.ParseFromString(payload)
    except DecodeError:
        raise OtlpRequestError(400, f"The body is not a protobuf-encoded {what}") from None
    if len(UnknownFieldSet(message)):
        # Bytes that happen to be valid wire format, but not of this message: not OTLP.
        raise OtlpRequestError(400, f"The body is not a protobuf-encoded {what} (unknown fields)")
    return message


_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON writes trace and span ids as hex, where protobuf's JSON mapping expects base64."""
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {}
    for key, value in node.items():
        if key in _ID_KEYS and isinstance(value, str):
            try:
                value = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise OtlpRequestError(400, f"{key} {value!r} is not a hex string") from None
        converted[key] = _hex_ids_to_base64(value)
    return converted
