"""OTLP ingest of the local server: the real Logfire SDK writes, the provider's client reads back.

The SDK runs in a subprocess (its global tracer, meter and logger providers must not leak into
other tests) and exports over real loopback HTTP, gzip-compressed, as it would to Logfire. The
mapping is then pinned down with hand-built OTLP protobuf messages, and the refusals (malformed,
oversized, unauthorised) are checked to write nothing.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local import otlp
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

PROTOBUF = {"Content-Type": "application/x-protobuf"}
#: 2026-11-27T10:00:00.123456789Z in Unix nanoseconds: stored with microsecond precision.
T_NS = int(datetime(2026, 11, 27, 10, tzinfo=timezone.utc).timestamp()) * 10**9 + 123_456_789
T_ISO = "2026-11-27T10:00:00.123456Z"
TRACE_ID = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT_ID = bytes.fromhex("b7ad6b7169203331")
CHILD_ID = bytes.fromhex("00f067aa0ba902b7")
SMALL_LIMIT = 64 * 1024


def rows(server: LocalServer, sql: str) -> list[dict[str, Any]]:
    """Query the server the way a DAG would: through the provider's client."""
    with LogfireClient.from_token(server.token, base_url=server.url) as client:
        return client.query_json_rows(sql, limit=1000)["rows"]


# -- the real SDK ------------------------------------------------------------------------------

SDK_SCRIPT = r"""
import json, os, sys
import logfire
from opentelemetry._logs import LogRecord, SeverityNumber, get_logger_provider

logfire.configure(
    token=os.environ["OTLP_TEST_TOKEN"],
    send_to_logfire=True,
    console=False,
    advanced=logfire.AdvancedOptions(base_url=os.environ["OTLP_TEST_URL"]),
    service_name="otlp-test",
    service_version="1.2.3",
    environment="test",
    data_dir=sys.argv[1],
    inspect_arguments=False,
)
with logfire.span("checkout {order_id}", order_id=42, cart={"items": [1, 2]}, _tags=["shop", "web"]):
    with logfire.span("charge card", amount=9.5) as charge:
        charge.add_event("card authorised", {"card.brand": "visa", "amount": 9.5})
        logfire.info("charged {amount} EUR", amount=9.5)
    logfire.warn("stock low for {sku}", sku="A-1")
    logfire.error("payment gateway slow: {ms} ms", ms=1200)
try:
    with logfire.span("ship order"):
        raise ValueError("no courier available")
except ValueError:
    pass
try:
    {}["missing"]
except KeyError:
    logfire.exception("lookup failed for {key}", key="missing")
with logfire.span("long running"):
    logfire.force_flush()  # the pending span of "long running" leaves while it is still open
logfire.metric_counter("orders", unit="1", description="Orders placed").add(2, {"shop": "berlin"})
histogram = logfire.metric_histogram("checkout.latency", unit="ms")
for value in (5.0, 15.0, 40.0):
    histogram.record(value)
get_logger_provider().get_logger("plain-otel").emit(
    LogRecord(body="disk almost full", severity_number=SeverityNumber.WARN, attributes={"disk": "/data"})
)
logfire.force_flush()
logfire.shutdown()
print(json.dumps({"pid": os.getpid()}))
"""


@pytest.fixture(scope="module")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, dict[str, Any]]]:
    """A server the SDK wrote to, the subprocess's report, and the span types the server got."""
    seen_span_types: list[Any] = []
    original = otlp.spans_to_records

    def spy(request: ExportTraceServiceRequest) -> Any:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    types = [a.value.string_value for a in span.attributes if a.key == "logfire.span_type"]
                    seen_span_types.extend(types)
        return original(request)

    work = tmp_path_factory.mktemp("sdk")
    script = work / "emit.py"
    script.write_text(SDK_SCRIPT)
    with pytest.MonkeyPatch.context() as patch, run_local_server() as server:
        patch.setattr(otlp, "spans_to_records", spy)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGFIRE_", "OTEL_"))}
        env.update(OTLP_TEST_URL=server.url, OTLP_TEST_TOKEN=server.token)
        proc = subprocess.run(
            [sys.executable, str(script), str(work / ".logfire")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        report["span_types"] = seen_span_types
        report["stderr"] = proc.stderr
        yield server, report


RECORD_SQL = """
SELECT span_name, message, level, kind, tags, trace_id, span_id, parent_span_id, duration,
       attributes, is_exception, exception_type, exception_message, exception_stacktrace,
       otel_status_code, otel_status_message, service_name, service_version, deployment_environment,
       process_pid, telemetry_sdk_language, otel_scope_name, log_body, start_timestamp, end_timestamp,
       created_at, day, project_id
FROM records ORDER BY start_timestamp
"""


def by_name(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["span_name"]: r for r in records}


def test_sdk_spans_logs_and_exceptions_land_in_records(sdk_server: tuple[LocalServer, dict]) -> None:
    server, report = sdk_server
    for trouble in ("Failed to export", "status code", "Traceback"):  # no export was refused
        assert trouble not in report["stderr"], report["stderr"]
    records = by_name(rows(server, RECORD_SQL))

    checkout = records["checkout {order_id}"]
    assert checkout["message"] == "checkout 42"
    assert (checkout["kind"], checkout["level"]) == ("span", 9)
    assert checkout["tags"] == ["shop", "web"]
    assert checkout["parent_span_id"] is None
    assert 0 < checkout["duration"] < 30
    assert len(checkout["trace_id"]) == 32 and len(checkout["span_id"]) == 16
    attributes = json.loads(checkout["attributes"])
    assert attributes["order_id"] == 42
    assert attributes["cart"] == {"items": [1, 2]}  # sent as JSON text, declared in logfire.json_schema
    assert not any(key in attributes for key in ("logfire.msg", "logfire.span_type", "logfire.tags"))
    assert checkout["service_name"] == "otlp-test"
    assert checkout["service_version"] == "1.2.3"
    assert checkout["deployment_environment"] == "test"
    assert checkout["process_pid"] == report["pid"]
    assert checkout["telemetry_sdk_language"] == "python"
    assert checkout["otel_scope_name"] == "logfire"
    assert checkout["project_id"] == "local"
    assert checkout["created_at"] is not None and checkout["day"] == checkout["start_timestamp"][:10]

    charge = records["charge card"]
    assert charge["parent_span_id"] == checkout["span_id"]
    assert charge["trace_id"] == checkout["trace_id"]

    charged = records["charged {amount} EUR"]
    assert (charged["kind"], charged["level"], charged["message"]) == ("log", 9, "charged 9.5 EUR")
    assert charged["parent_span_id"] == charge["span_id"]
    assert charged["duration"] is None
    assert charged["start_timestamp"] == charged["end_timestamp"]
    assert (records["stock low for {sku}"]["level"], records["stock low for {sku}"]["message"]) == (
        13,
        "stock low for A-1",
    )
    assert records["payment gateway slow: {ms} ms"]["level"] == 17

    shipped = records["ship order"]
    assert shipped["is_exception"] is True
    assert shipped["exception_type"] == "ValueError"
    assert shipped["exception_message"] == "no courier available"
    assert 'raise ValueError("no courier available")' in shipped["exception_stacktrace"]
    assert shipped["level"] == 17
    assert (shipped["otel_status_code"], shipped["otel_status_message"]) == (
        "ERROR",
        "ValueError: no courier available",
    )
    assert checkout["is_exception"] is False

    lookup = records["lookup failed for {key}"]
    assert (lookup["kind"], lookup["level"], lookup["is_exception"]) == ("log", 17, True)
    assert lookup["exception_type"] == "KeyError"

    # A span event is a row of its own (Logfire's SQL reference, `kind`), inside its span; the
    # exception event of "ship order" is not (it is the span's `is_exception` instead).
    authorised = records["card authorised"]
    assert (authorised["kind"], authorised["level"], authorised["message"]) == (
        "span_event",
        9,
        "card authorised",
    )
    assert (authorised["trace_id"], authorised["parent_span_id"]) == (charge["trace_id"], charge["span_id"])
    assert len(authorised["span_id"]) == 16 and authorised["span_id"] != charge["span_id"]
    assert authorised["duration"] is None and authorised["start_timestamp"] == authorised["end_timestamp"]
    assert charge["start_timestamp"] <= authorised["start_timestamp"] <= charged["start_timestamp"]
    assert json.loads(authorised["attributes"]) == {"card.brand": "visa", "amount": 9.5}
    assert (authorised["service_name"], authorised["otel_scope_name"]) == ("otlp-test", "logfire")
    kinds = rows(server, "SELECT span_name FROM records WHERE kind = 'span_event'")
    assert kinds == [{"span_name": "card authorised"}]

    plain = records["disk almost full"]
    assert (plain["kind"], plain["level"], plain["log_body"]) == ("log", 13, "disk almost full")
    assert plain["otel_scope_name"] == "plain-otel"
    assert json.loads(plain["attributes"]) == {"disk": "/data"}


def test_sdk_pending_spans_are_in_records_all_only(sdk_server: tuple[LocalServer, dict]) -> None:
    server, report = sdk_server
    assert "pending_span" in report["span_types"]  # the SDK did send one for "long running"
    long_running = rows(server, "SELECT kind FROM records WHERE span_name = 'long running'")
    assert long_running == [{"kind": "span"}]
    others = "SELECT count(*) AS n FROM records WHERE kind NOT IN ('span', 'log', 'span_event')"
    assert rows(server, others) == [{"n": 0}]
    # As on Logfire, `records` is `records_all` without the pending spans.
    everything = rows(server, "SELECT kind FROM records_all WHERE span_name = 'long running' ORDER BY kind")
    assert everything == [{"kind": "pending_span"}, {"kind": "span"}]


def test_sdk_attributes_are_queryable_with_json_operators(sdk_server: tuple[LocalServer, dict]) -> None:
    server, _ = sdk_server
    found = rows(
        server,
        "SELECT span_name, attributes->>'sku' AS sku FROM records WHERE attributes->>'sku' = 'A-1'",
    )
    assert found == [{"span_name": "stock low for {sku}", "sku": "A-1"}]


def test_sdk_metrics_land_in_metrics(sdk_server: tuple[LocalServer, dict]) -> None:
    server, _ = sdk_server
    metrics = rows(
        server,
        "SELECT metric_name, metric_type, unit, metric_description, aggregation_temporality, is_monotonic, "
        "scalar_value, histogram_count, histogram_sum, histogram_min, histogram_max, "
        "attributes->>'shop' AS shop, service_name, deployment_environment "
        "FROM metrics WHERE metric_name IN ('orders', 'checkout.latency') ORDER BY metric_name",
    )
    latency, orders = metrics
    assert orders["metric_type"] == "sum"
    assert (orders["unit"], orders["metric_description"]) == ("1", "Orders placed")
    assert (orders["aggregation_temporality"], orders["is_monotonic"]) == ("delta", True)
    assert (orders["scalar_value"], orders["shop"]) == (2.0, "berlin")
    assert (orders["service_name"], orders["deployment_environment"]) == ("otlp-test", "test")
    # The SDK aggregates histograms as exponential histograms: stored with their scalars.
    assert latency["metric_type"] == "exponential_histogram"
    assert (latency["histogram_count"], latency["histogram_sum"]) == (3, 60.0)
    assert (latency["histogram_min"], latency["histogram_max"]) == (5.0, 40.0)
    # Logfire's metric functions read the SDK's points (dashboard-query guide, "Working with metrics"):
    # the median is the middle observation, 15, up to half a bucket of the SDK's chosen scale.
    [summary] = rows(
        server,
        "SELECT sum(metric_count(value)) AS n, sum(metric_sum(value)) AS total, "
        "metric_quantile(0.5, value) AS p50 FROM metrics WHERE metric_name = 'checkout.latency'",
    )
    assert (summary["n"], summary["total"]) == (3, 60.0)
    assert summary["p50"] == pytest.approx(15.0, rel=0.03)
    [counted] = rows(
        server,
        "SELECT metric_increase(value, recorded_timestamp) AS n, sum(metric_count(value)) AS points "
        "FROM metrics WHERE metric_name = 'orders'",
    )
    assert counted == {"n": 2.0, "points": 1}  # one delta point of 2 orders


# -- hand-built messages ------------------------------------------------------------------------


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    out = AnyValue()
    out.kvlist_value.values.extend(key_values(value))
    return out


def key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


RESOURCE = {
    "service.name": "billing",
    "service.version": "2.0.1",
    "service.namespace": "shop",
    "service.instance.id": "instance-7",
    "process.pid": 4242,
    "deployment.environment": "staging",  # the old attribute name
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.language": "go",
    "telemetry.sdk.version": "1.30.0",
}


def trace_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(key_values(RESOURCE))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "billing.http"
    scope_spans.scope.version = "0.9"
    scope_spans.scope.attributes.extend(key_values({"library": "custom"}))

    root = scope_spans.spans.add(
        trace_id=TRACE_ID,
        span_id=ROOT_ID,
        name="GET /invoices/{id}",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=T_NS,
        end_time_unix_nano=T_NS + 1_500_000_000,
        status=Status(code=Status.STATUS_CODE_ERROR, message="upstream failed"),
    )
    root.attributes.extend(
        key_values(
            {
                "logfire.msg": "GET /invoices/17",
                "logfire.msg_template": "GET /invoices/{id}",
                "logfire.level_num": 13,
                "logfire.span_type": "span",
                "logfire.tags": ["api", "invoices"],
                "logfire.json_schema": json.dumps(
                    {"type": "object", "properties": {"filters": {"type": "object"}, "plain": {}}}
                ),
                "filters": '{"paid": false}',
                "plain": '{"stays": "text"}',
                "http.request.method": "GET",
                "http.route": "/invoices/{id}",
                "http.response.status_code": 502,
                "url.full": "https://shop.example/invoices/17?x=1",
                "http.target": "/invoices/17?x=1",
                "count": 3,
                "ratio": 0.25,
                "cached": True,
                "ids": [1, 2],
                "nested": {"a": ["b", 1.5]},
                "raw": b"\x00\xff",
                "not_a_number": float("nan"),
            }
        )
    )
    handled = root.events.add(name="exception", time_unix_nano=T_NS + 500)  # recorded, then handled
    handled.attributes.extend(key_values({"exception.type": "KeyError", "exception.message": "'k'"}))
    exception = root.events.add(name="exception", time_unix_nano=T_NS + 1_000)
    exception.attributes.extend(
        key_values(
            {
                "exception.type": "TimeoutError",
                "exception.message": "upstream took too long",
                "exception.stacktrace": "Traceback (most recent call last):\n  ...\nTimeoutError",
            }
        )
    )
    root.events.add(name="cache miss", time_unix_nano=T_NS + 2_000).attributes.extend(
        key_values({"key": "inv:17"})
    )
    root.links.add(trace_id=bytes(range(16)), span_id=bytes(range(8))).attributes.extend(
        key_values({"why": "retry"})
    )

    child = scope_spans.spans.add(
        trace_id=TRACE_ID,
        span_id=CHILD_ID,
        parent_span_id=ROOT_ID,
        name="SELECT invoices",
        start_time_unix_nano=T_NS + 10_000_000,
        end_time_unix_nano=T_NS + 30_000_000,
        status=Status(code=Status.STATUS_CODE_ERROR),
    )
    child.attributes.extend(key_values({"http.method": "POST", "http.status_code": 500}))

    pending = scope_spans.spans.add(
        trace_id=TRACE_ID,
        span_id=bytes.fromhex("1111111111111111"),
        parent_span_id=CHILD_ID,
        name="still running",
        start_time_unix_nano=T_NS,
        end_time_unix_nano=T_NS,
    )
    pending.attributes.extend(key_values({"logfire.span_type": "pending_span"}))
    return request


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A fresh, empty server per test, with a small OTLP body limit."""
    with LocalEngine() as engine, run_local_server(engine, otlp_max_body_bytes=SMALL_LIMIT) as running:
        yield running


def post(
    server: LocalServer, path: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    headers = {"Authorization": server.token, **PROTOBUF, **(headers or {})}
    return httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=30)


def stored(server: LocalServer) -> tuple[int, int]:
    return server.engine.count("records"), server.engine.count("metrics")


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_span_mapping(server: LocalServer, encoding: str | None) -> None:
    body = trace_request().SerializeToString()
    headers = {}
    if encoding == "gzip":
        body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
    elif encoding == "deflate":
        body, headers = zlib.compress(body), {"Content-Encoding": "deflate"}
    response = post(server, "/v1/traces", body, headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse().ParseFromString(response.content)  # a valid, empty response

    records = rows(server, "SELECT * FROM records ORDER BY start_timestamp")
    names = [r["span_name"] for r in records]
    assert names == ["GET /invoices/{id}", "cache miss", "SELECT invoices"]  # no pending, no exception
    root, event, child = records
    assert root["start_timestamp"] == T_ISO
    assert root["end_timestamp"] == "2026-11-27T10:00:01.623456Z"
    assert root["duration"] == 1.5
    assert (root["trace_id"], root["span_id"], root["parent_span_id"]) == (
        TRACE_ID.hex(),
        ROOT_ID.hex(),
        None,
    )
    assert (root["kind"], root["level"], root["message"]) == ("span", 13, "GET /invoices/17")
    assert root["tags"] == ["api", "invoices"]
    assert json.loads(root["attributes"]) == {
        "filters": {"paid": False},  # declared by logfire.json_schema: parsed back
        "plain": '{"stays": "text"}',  # an empty schema means a plain string
        "http.request.method": "GET",
        "http.route": "/invoices/{id}",
        "http.response.status_code": 502,
        "url.full": "https://shop.example/invoices/17?x=1",
        "http.target": "/invoices/17?x=1",
        "count": 3,
        "ratio": 0.25,
        "cached": True,
        "ids": [1, 2],
        "nested": {"a": ["b", 1.5]},
        "raw": "AP8=",
        "not_a_number": "nan",
    }
    # Logfire's SQL reference: the exception columns come from the first `exception` event.
    assert root["is_exception"] is True
    assert (root["exception_type"], root["exception_message"]) == ("KeyError", "'k'")
    assert root["exception_stacktrace"] is None
    assert (root["otel_status_code"], root["otel_status_message"]) == ("ERROR", "upstream failed")
    events = json.loads(root["otel_events"])
    assert [e["name"] for e in events] == ["exception", "exception", "cache miss"]
    assert events[2] == {
        "name": "cache miss",
        "timestamp": "2026-11-27T10:00:00.123458Z",
        "attributes": {"key": "inv:17"},
    }
    assert json.loads(root["otel_links"]) == [
        {"trace_id": bytes(range(16)).hex(), "span_id": bytes(range(8)).hex(), "attributes": {"why": "retry"}}
    ]
    assert (root["otel_scope_name"], root["otel_scope_version"]) == ("billing.http", "0.9")
    assert json.loads(root["otel_scope_attributes"]) == {"library": "custom"}
    assert json.loads(root["otel_resource_attributes"]) == RESOURCE
    assert {k: root[k] for k in ("service_name", "service_version", "service_namespace")} == {
        "service_name": "billing",
        "service_version": "2.0.1",
        "service_namespace": "shop",
    }
    assert (root["service_instance_id"], root["process_pid"]) == ("instance-7", 4242)
    assert root["deployment_environment"] == "staging"
    assert (root["telemetry_sdk_name"], root["telemetry_sdk_language"], root["telemetry_sdk_version"]) == (
        "opentelemetry",
        "go",
        "1.30.0",
    )
    assert (root["http_method"], root["http_route"], root["http_response_status_code"]) == (
        "GET",
        "/invoices/{id}",
        502,
    )
    assert (root["url_full"], root["url_path"], root["url_query"]) == (
        "https://shop.example/invoices/17?x=1",
        "/invoices/17",
        "x=1",
    )
    assert (root["day"], root["project_id"]) == ("2026-11-27", "local")

    # The span event that is not an exception, as a row of its own inside the span.
    assert (event["kind"], event["level"], event["message"]) == ("span_event", 9, "cache miss")
    assert (event["trace_id"], event["parent_span_id"]) == (TRACE_ID.hex(), ROOT_ID.hex())
    assert len(event["span_id"]) == 16 and event["span_id"] not in (ROOT_ID.hex(), CHILD_ID.hex())
    assert event["start_timestamp"] == event["end_timestamp"] == "2026-11-27T10:00:00.123458Z"
    assert event["duration"] is None
    assert json.loads(event["attributes"]) == {"key": "inv:17"}
    assert (event["tags"], event["is_exception"], event["exception_type"]) == ([], False, None)
    assert (event["otel_status_code"], event["otel_events"], event["otel_links"]) == (None, None, None)
    assert (event["otel_scope_name"], event["service_name"], event["deployment_environment"]) == (
        "billing.http",
        "billing",
        "staging",
    )
    assert json.loads(event["otel_resource_attributes"]) == RESOURCE
    assert event["http_route"] is None and (event["day"], event["project_id"]) == ("2026-11-27", "local")

    # No logfire attributes: the name is the message, an ERROR status makes it an error.
    assert (child["message"], child["level"], child["parent_span_id"]) == (
        "SELECT invoices",
        17,
        ROOT_ID.hex(),
    )
    assert (child["http_method"], child["http_response_status_code"]) == ("POST", 500)
    assert (child["tags"], child["otel_events"], child["otel_links"], child["is_exception"]) == (
        [],  # no tags is an empty list, as Logfire stores it
        None,
        None,
        False,
    )


def test_log_records(server: LocalServer) -> None:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(key_values({"service.name": "worker"}))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "worker.jobs"
    in_span = scope_logs.log_records.add(
        time_unix_nano=T_NS,
        severity_number=SeverityNumber.SEVERITY_NUMBER_WARN,
        body=any_value("job {id} retried"),
        trace_id=TRACE_ID,
        span_id=ROOT_ID,
    )
    in_span.attributes.extend(key_values({"job.id": 7, "logfire.msg": "job 7 retried"}))
    scope_logs.log_records.add(
        time_unix_nano=T_NS + 1_000,
        severity_text="ERROR",
        body=any_value({"event": "crash", "code": 3}),
    ).attributes.extend(key_values({"exception.type": "OSError", "exception.message": "disk gone"}))
    scope_logs.log_records.add(observed_time_unix_nano=T_NS + 2_000, body=any_value("no time, no level"))

    response = post(server, "/v1/logs", request.SerializeToString())
    assert response.status_code == 200, response.text

    logs = rows(server, "SELECT * FROM records ORDER BY start_timestamp")
    assert [r["kind"] for r in logs] == ["log"] * 3
    retried, crash, plain = logs
    assert (retried["level"], retried["message"], retried["log_body"]) == (
        13,
        "job 7 retried",
        "job {id} retried",
    )
    assert (retried["trace_id"], retried["parent_span_id"]) == (TRACE_ID.hex(), ROOT_ID.hex())
    assert len(retried["span_id"]) == 16 and retried["span_id"] != ROOT_ID.hex()
    assert retried["duration"] is None and retried["start_timestamp"] == retried["end_timestamp"] == T_ISO
    assert json.loads(retried["attributes"]) == {"job.id": 7}
    assert (retried["service_name"], retried["otel_scope_name"]) == ("worker", "worker.jobs")

    assert crash["level"] == 17  # from the severity text
    assert json.loads(crash["log_body"]) == {"event": "crash", "code": 3}
    assert (crash["is_exception"], crash["exception_type"], crash["exception_message"]) == (
        True,
        "OSError",
        "disk gone",
    )
    assert crash["parent_span_id"] is None and len(crash["trace_id"]) == 32

    assert (plain["level"], plain["message"], plain["span_name"]) == (
        9,
        "no time, no level",
        "no time, no level",
    )
    assert plain["start_timestamp"] == "2026-11-27T10:00:00.123458Z"  # the observed time


def metrics_request(*, bad_bucket: bool = False) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.extend(
        key_values({"service.name": "api", "deployment.environment.name": "prod"})
    )
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = "api.metrics"

    requests = scope_metrics.metrics.add(name="http.requests", unit="{request}", description="Requests")
    requests.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    requests.sum.is_monotonic = True
    point = requests.sum.data_points.add(
        start_time_unix_nano=T_NS - 60 * 10**9, time_unix_nano=T_NS, as_int=41
    )
    point.attributes.extend(key_values({"route": "/a"}))
    point.exemplars.add(time_unix_nano=T_NS, as_double=0.5, trace_id=TRACE_ID, span_id=ROOT_ID)

    scope_metrics.metrics.add(name="memory", unit="By").gauge.data_points.add(
        time_unix_nano=T_NS, as_double=1.5e9
    )

    latency = scope_metrics.metrics.add(name="latency", unit="ms")
    latency.histogram.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    latency.histogram.data_points.add(
        time_unix_nano=T_NS,
        count=6,
        sum=123.0,
        min=1.0,
        max=80.0,
        bucket_counts=[2**64 - 1 if bad_bucket else 1, 3, 2],
        explicit_bounds=[10.0, 50.0],
    )

    sizes = scope_metrics.metrics.add(name="sizes", unit="By")
    sizes.exponential_histogram.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    sizes.exponential_histogram.data_points.add(time_unix_nano=T_NS, count=4, sum=40.0, scale=2, zero_count=1)
    return request


def test_metrics(server: LocalServer) -> None:
    response = post(
        server,
        "/v1/metrics",
        gzip.compress(metrics_request().SerializeToString()),
        {"Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text

    metrics = {m["metric_name"]: m for m in rows(server, "SELECT * FROM metrics")}
    assert set(metrics) == {"http.requests", "memory", "latency", "sizes"}
    requests = metrics["http.requests"]
    assert (requests["metric_type"], requests["unit"], requests["metric_description"]) == (
        "sum",
        "{request}",
        "Requests",
    )
    assert (requests["aggregation_temporality"], requests["is_monotonic"], requests["scalar_value"]) == (
        "cumulative",
        True,
        41.0,
    )
    assert (requests["recorded_timestamp"], requests["start_timestamp"]) == (
        T_ISO,
        "2026-11-27T09:59:00.123456Z",
    )
    assert json.loads(requests["attributes"]) == {"route": "/a"}
    assert json.loads(requests["exemplars"]) == [
        {
            "timestamp": T_ISO,
            "value": 0.5,
            "trace_id": TRACE_ID.hex(),
            "span_id": ROOT_ID.hex(),
            "filtered_attributes": {},
        }
    ]
    assert (requests["service_name"], requests["deployment_environment"]) == ("api", "prod")
    assert requests["otel_scope_name"] == "api.metrics"

    memory = metrics["memory"]
    assert (memory["metric_type"], memory["scalar_value"], memory["aggregation_temporality"]) == (
        "gauge",
        1.5e9,
        None,
    )
    assert memory["start_timestamp"] is None and memory["is_monotonic"] is None

    latency = metrics["latency"]
    assert (latency["metric_type"], latency["aggregation_temporality"]) == ("histogram", "delta")
    assert (latency["histogram_count"], latency["histogram_sum"]) == (6, 123.0)
    assert (latency["histogram_min"], latency["histogram_max"]) == (1.0, 80.0)
    assert latency["histogram_bucket_counts"] == [1, 3, 2]
    assert latency["histogram_explicit_bounds"] == [10.0, 50.0]
    assert latency["scalar_value"] is None

    sizes = metrics["sizes"]
    assert (sizes["metric_type"], sizes["histogram_count"], sizes["histogram_sum"]) == (
        "exponential_histogram",
        4,
        40.0,
    )
    assert (sizes["histogram_min"], sizes["histogram_bucket_counts"]) == (None, None)


def test_otlp_json(server: LocalServer) -> None:
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js-app"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_ID.hex().upper(),
                                "spanId": CHILD_ID.hex(),
                                "parentSpanId": ROOT_ID.hex(),
                                "name": "render",
                                "startTimeUnixNano": str(T_NS),
                                "endTimeUnixNano": str(T_NS + 2_000_000),
                                "attributes": [{"key": "count", "value": {"intValue": "5"}}],
                                "status": {"code": 2},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = post(server, "/v1/traces", json.dumps(document).encode(), {"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {}
    [span] = rows(server, "SELECT * FROM records")
    assert (span["trace_id"], span["span_id"], span["parent_span_id"]) == (
        TRACE_ID.hex(),
        CHILD_ID.hex(),
        ROOT_ID.hex(),
    )
    assert (span["service_name"], span["level"], span["duration"]) == ("js-app", 17, 0.002)
    assert json.loads(span["attributes"]) == {"count": 5}


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        (b"this is not protobuf", {}, 400, "not a protobuf-encoded ExportTraceServiceRequest"),
        (b"\x10\x01", {}, 400, "unknown fields"),  # valid wire format, but field 2 is no OTLP field
        (b"not gzip at all", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (
            gzip.compress(trace_request().SerializeToString())[:-20],
            {"Content-Encoding": "gzip"},
            400,
            "truncated",
        ),
        (
            gzip.compress(trace_request().SerializeToString()) + b"junk",
            {"Content-Encoding": "gzip"},
            400,
            "gzip",
        ),
        (b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b'{"resourceSpans": 3}', {"Content-Type": "application/json"}, 400, "not a valid OTLP/JSON"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "Unsupported Content-Type 'text/plain'"),
        (b"x", {"Content-Encoding": "br"}, 415, "Unsupported Content-Encoding 'br'"),
    ],
)
def test_malformed_bodies_are_refused_and_write_nothing(
    server: LocalServer, body: bytes, headers: dict[str, str], status: int, detail: str
) -> None:
    response = post(server, "/v1/traces", body, headers)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert stored(server) == (0, 0)


def test_a_bad_value_anywhere_refuses_the_whole_request(server: LocalServer) -> None:
    # The first three points are fine; a bucket count beyond int64 makes the request fail as one.
    response = post(server, "/v1/metrics", metrics_request(bad_bucket=True).SerializeToString())
    assert response.status_code == 400
    assert "cannot store" in response.json()["detail"]
    assert stored(server) == (0, 0)
    assert post(server, "/v1/metrics", metrics_request().SerializeToString()).status_code == 200
    assert stored(server) == (0, 4)


def test_oversized_bodies_get_413(server: LocalServer) -> None:
    big = ExportTraceServiceRequest()
    spans = big.resource_spans.add().scope_spans.add()
    for i in range(400):
        spans.spans.add(
            trace_id=TRACE_ID, span_id=i.to_bytes(8, "big"), name="x" * 200, start_time_unix_nano=T_NS
        )
    body = big.SerializeToString()
    assert len(body) > SMALL_LIMIT
    compressed = gzip.compress(body)
    assert len(compressed) < SMALL_LIMIT  # small on the wire, too big once inflated

    assert post(server, "/v1/traces", body).status_code == 413
    response = post(server, "/v1/traces", compressed, {"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert f"limit of {SMALL_LIMIT} bytes" in response.json()["detail"]
    bomb = gzip.compress(b"\x00" * (50 * 1024 * 1024))  # 50 MB of zeros, ~50 KB compressed
    assert post(server, "/v1/traces", bomb, {"Content-Encoding": "gzip"}).status_code == 413
    assert stored(server) == (0, 0)


def test_the_size_limit_is_configurable() -> None:
    body = trace_request().SerializeToString()
    with run_local_server(otlp_max_body_bytes=len(body) - 1) as tight:
        assert post(tight, "/v1/traces", body).status_code == 413
    with run_local_server(otlp_max_body_bytes=len(body)) as exact:
        assert post(exact, "/v1/traces", body).status_code == 200
        assert exact.engine.count("records") == 3  # the two finished spans and the span event


def test_token_is_required(server: LocalServer) -> None:
    body = trace_request().SerializeToString()
    for headers in ({"Authorization": "wrong-token"}, {"Authorization": ""}):
        response = httpx.post(f"{server.url}/v1/traces", content=body, headers={**PROTOBUF, **headers})
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid read token"}
    assert stored(server) == (0, 0)
    assert post(server, "/v1/traces", body, {"Authorization": f"Bearer {server.token}"}).status_code == 200
    assert stored(server) == (3, 0)  # two finished spans and a span event


def test_other_paths_and_methods_are_untouched(server: LocalServer) -> None:
    auth = {"Authorization": server.token}
    assert httpx.post(f"{server.url}/v1/spans", content=b"", headers=auth).status_code == 404
    assert httpx.get(f"{server.url}/v1/traces", headers=auth).status_code == 405
    # An empty export is valid OTLP: nothing to store.
    assert post(server, "/v1/logs", b"").status_code == 200
    info = httpx.get(f"{server.url}/v1/info", headers=auth)
    assert info.status_code == 200 and info.json()["project_name"] == "demo"
    assert stored(server) == (0, 0)


def test_concurrent_ingest_and_queries(server: LocalServer) -> None:
    """Writers and readers at once: every export lands once, every query answers."""
    writers, exports = 4, 15
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with httpx.Client(headers={"Authorization": server.token, **PROTOBUF}, timeout=30) as http:
                for n in range(exports):
                    request = ExportTraceServiceRequest()
                    spans = request.resource_spans.add().scope_spans.add()
                    for i in range(20):
                        spans.spans.add(
                            trace_id=TRACE_ID,
                            span_id=(writer * 10_000 + n * 100 + i + 1).to_bytes(8, "big"),
                            name=f"w{writer}",
                            start_time_unix_nano=T_NS - (n * 100 + i) * 10**6,  # ever earlier
                            end_time_unix_nano=T_NS,
                        )
                    response = http.post(f"{server.url}/v1/traces", content=request.SerializeToString())
                    assert response.status_code == 200, response.text
        except BaseException as exc:
            errors.append(exc)

    def read(stop: threading.Event) -> None:
        try:
            with LogfireClient.from_token(server.token, base_url=server.url) as client:
                while not stop.is_set():
                    [row] = client.query_json_rows("SELECT count(*) AS n FROM records")["rows"]
                    assert 0 <= row["n"] <= writers * exports * 20
        except BaseException as exc:
            errors.append(exc)

    stop = threading.Event()
    readers = [threading.Thread(target=read, args=(stop,)) for _ in range(2)]
    writer_threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in readers + writer_threads:
        thread.start()
    for thread in writer_threads:
        thread.join(60)
    stop.set()
    for thread in readers:
        thread.join(60)
    assert not errors, errors
    counts = rows(server, "SELECT span_name, count(DISTINCT span_id) AS n FROM records GROUP BY 1 ORDER BY 1")
    assert counts == [{"span_name": f"w{w}", "n": exports * 20} for w in range(writers)]
    assert stored(server) == (writers * exports * 20, 0)


def test_decompress_refuses_to_inflate_past_the_limit() -> None:
    with pytest.raises(otlp.OtlpRequestError) as caught:
        otlp.decompress(gzip.compress(b"a" * 1001), "gzip", max_bytes=1000)
    assert caught.value.status_code == 413

    # 100 MB of zeros in ~100 KB of gzip: refused without ever holding much more than the limit.
    packer = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(chunk) for _ in range(100)) + packer.flush()
    tracemalloc.start()
    try:
        with pytest.raises(otlp.OtlpRequestError, match="limit of 1048576 bytes"):
            otlp.decompress(bomb, "gzip", max_bytes=1024 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    two_members = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert otlp.decompress(two_members, "gzip") == b"abcd"
    assert otlp.decompress(b"plain", None) == otlp.decompress(b"plain", "identity") == b"plain"


def test_decoding_needs_no_server(tmp_path: Path) -> None:
    """The module decodes without any server: pure functions, usable from tests or scripts."""
    batch = otlp.decode_request("traces", trace_request().SerializeToString(), content_type=None)
    assert batch.table == "records" and batch.rows.num_rows == 4  # two spans, a pending one, an event
    assert "created_at" not in batch.rows.column_names  # the engine stamps the insert time
    with LocalEngine(tmp_path / "data") as engine:
        assert engine.insert_arrow(batch.table, batch.rows, keep_sorted=False) == 4
