"""Realistic, deterministic demo telemetry for the local Logfire server.

Why: exports, sensors and error reports are only convincing on data that looks like a real
service's: traces of nested spans across services, logs inside them, a day/night traffic curve,
the odd 404, timeout and crash, and metrics that agree with the spans.

How: traffic is a catalogue of trace *templates* (a small shop's HTTP routes and an e-mail
worker, each with its DB/cache/HTTP-client child spans, logs and error variants), described in
`demo_traces` and flattened here into arrays (`_Catalog`). The time range
is cut into chunks of at most `_MAX_CHUNK_ROWS` records; per chunk numpy draws which templates
occur, when and how long they take, and pyarrow carries the rows (template text as dictionary
arrays, so nothing is copied per row). Batches of chunks go through a DuckDB `INSERT ... SELECT`
that fills in the text (messages, JSON) and keeps the rows in time order. Every random draw comes from
a generator seeded by `(seed, chunk)`, so the same arguments give byte-identical rows. Nothing
touches the file system, so it works on a connection with `enable_external_access = false`.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa

from airflow_provider_logfire.local.demo_traces import (
    ENVIRONMENT_P,
    ENVIRONMENTS,
    FASTAPI,
    NAMESPACE,
    POD_SUFFIXES,
    SDK,
    SERVICES,
    TEMPLATES,
    Service,
    SpanException,
    Template,
    check_template,
)
from airflow_provider_logfire.local.schema import METRICS, RECORDS, STORE_SCHEMA

__all__ = ["DemoSummary", "generate_demo"]

_SECOND = 1_000_000  # all times are integer microseconds since the Unix epoch
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: Upper bound on the records generated and inserted at once; keeps memory flat for any size.
_MAX_CHUNK_ROWS = 50_000
#: Ways to cut a day into whole-minute chunks, so that per-minute metrics never straddle two.
_DAY_SPLITS = tuple(parts for parts in range(1, 24 * 60 + 1) if 24 * 60 % parts == 0)


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` inserted: row counts and the records' time span `[start, end)`."""

    records: int
    metrics: int
    start: datetime
    end: datetime


# --------------------------------------------------------------------------------------------
# The catalogue: templates flattened into arrays that numpy can index per row
# --------------------------------------------------------------------------------------------

_SERVICE_INDEX = {s.name: i for i, s in enumerate(SERVICES)}


@dataclass(frozen=True)
class _Route:
    service: int
    method: str
    route: str


class _Catalog:
    """All template rows, flattened; row `g` of template `t` is `offset[t] + position`."""

    def __init__(self, templates: tuple[Template, ...]) -> None:
        for template in templates:
            check_template(template)
        steps = [step for template in templates for step in template.steps]
        lengths = np.array([len(t.steps) for t in templates], dtype=np.int64)
        weights = np.array([t.weight for t in templates], dtype=np.float64)
        self.template_p = weights / weights.sum()
        self.template_len = lengths
        self.template_offset = np.cumsum(lengths) - lengths
        self.median_us = np.array([t.median_ms * 1000.0 for t in templates])
        self.spread = np.array([t.spread for t in templates])
        self.min_len = int(lengths.min())

        has_children = {
            (ti, step.parent) for ti, t in enumerate(templates) for step in t.steps if step.parent is not None
        }
        self.parent = np.array([-1 if s.parent is None else s.parent for s in steps], dtype=np.int64)
        self.start_frac = np.array([s.at[0] for s in steps])
        self.end_frac = np.array([s.at[1] for s in steps])
        self.is_log = np.array([s.kind == "log" for s in steps])
        self.is_leaf = np.array(
            [(ti, pos) not in has_children for ti, t in enumerate(templates) for pos in range(len(t.steps))]
        )
        self.service = np.array([_SERVICE_INDEX[s.service] for s in steps], dtype=np.int64)

        self.routes: list[_Route] = []
        route_ids: list[int] = []
        for step in steps:
            if not step.server:
                route_ids.append(-1)
                continue
            route = _Route(_SERVICE_INDEX[step.service], step.http_method or "", step.http_route or "")
            if route not in self.routes:
                self.routes.append(route)
            route_ids.append(self.routes.index(route))
        self.route = np.array(route_ids, dtype=np.int64)

        exceptions = [s.exception for s in steps]
        #: Columns that depend only on the template row: the dictionaries of per-row dictionary
        #: arrays, so a chunk refers to them by index instead of copying strings per row.
        self.columns: dict[str, pa.Array] = {
            "kind": pa.array([s.kind for s in steps], pa.string()),
            "level": pa.array([s.level for s in steps], pa.int32()),
            "span_name": pa.array([s.name for s in steps], pa.string()),
            "message_t": pa.array([s.message for s in steps], pa.string()),
            "tags": pa.array([list(s.tags) if s.tags else None for s in steps], pa.list_(pa.string())),
            "attributes_t": pa.array([s.attributes for s in steps], pa.string()),
            "is_exception": pa.array([e is not None for e in exceptions], pa.bool_()),
            "exception_type": pa.array([e.type if e else None for e in exceptions], pa.string()),
            "exception_message_t": pa.array([e.message if e else None for e in exceptions], pa.string()),
            "exception_stacktrace_t": pa.array(
                [e.stacktrace if e else None for e in exceptions], pa.string()
            ),
            "otel_status_code": pa.array(["ERROR" if s.error else "UNSET" for s in steps], pa.string()),
            "otel_status_message_t": pa.array(
                [_status_message(e) if e else None for e in exceptions], pa.string()
            ),
            "otel_scope_name": pa.array([s.scope[0] for s in steps], pa.string()),
            "otel_scope_version": pa.array([s.scope[1] for s in steps], pa.string()),
            "http_response_status_code": pa.array([s.status_code for s in steps], pa.int32()),
            "http_method": pa.array([s.http_method for s in steps], pa.string()),
            "http_route": pa.array([s.http_route for s in steps], pa.string()),
            "url_full_t": pa.array([s.url_full for s in steps], pa.string()),
            "url_path_t": pa.array([s.url_path for s in steps], pa.string()),
            "url_query_t": pa.array([s.url_query for s in steps], pa.string()),
        }


def _status_message(exception: SpanException) -> str:
    """OpenTelemetry's status description for an exception: `ReadTimeout: The read ...`."""
    short_type = exception.type.rsplit(".", 1)[-1]
    return f"{short_type}: {exception.message}" if exception.message else short_type


_CATALOG = _Catalog(TEMPLATES)


# --------------------------------------------------------------------------------------------
# Time: the traffic curve and the chunks
# --------------------------------------------------------------------------------------------


def _traffic(times_us: np.ndarray) -> np.ndarray:
    """Relative request rate at each time: quiet around 04:00 UTC (0.15), busiest at 16:00 (1.0)."""
    hours = (times_us % _DAY) / _HOUR
    return 0.15 + 0.85 * ((1.0 - np.cos(2.0 * np.pi * (hours - 4.0) / 24.0)) / 2.0) ** 2


def _grid(start: int, end: int) -> np.ndarray:
    """Edges of the minute grid over `[start, end)`, including both ends."""
    inner = np.arange((start // _MINUTE + 1) * _MINUTE, end, _MINUTE, dtype=np.int64)
    return np.concatenate(([start], inner, [end])).astype(np.float64)


def _minute_traffic(start: int, end: int) -> np.ndarray:
    """Expected traffic in each minute (the last one maybe partial) of `[start, end)`."""
    edges = _grid(start, end)
    return _traffic((edges[:-1] + edges[1:]) / 2.0) * np.diff(edges)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder, integer arithmetic)."""
    scaled = [max(1, round(w)) for w in weights]
    whole = sum(scaled)
    shares = [total * w // whole for w in scaled]
    remainders = sorted(range(len(scaled)), key=lambda i: (-(total * scaled[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class _Chunk:
    start: int
    end: int
    rows: int


def _day_rows(rows_per_day: int, length: int) -> int:
    """Records in a day of `length` microseconds: a partial day gets its share by elapsed time."""
    return rows_per_day if length == _DAY else rows_per_day * length // _DAY


def _chunks(start: int, end: int, rows_per_day: int) -> Iterator[_Chunk]:
    """Minute-aligned pieces of `[start, end)` with their exact record counts, in time order.

    Each day gets its count (see `_day_rows`), spread by the traffic curve over the fewest equal
    pieces that keep every piece within `_MAX_CHUNK_ROWS` records.
    """
    for day_start in range(start, end, _DAY):
        day_end = min(day_start + _DAY, end)
        rows = _day_rows(rows_per_day, day_end - day_start)
        minute_traffic = _minute_traffic(day_start, day_end)
        for parts in _DAY_SPLITS:
            minutes = _DAY // _MINUTE // parts
            piece_traffic = np.add.reduceat(minute_traffic, np.arange(0, len(minute_traffic), minutes))
            counts = _apportion(rows, piece_traffic.tolist())
            if max(counts) <= _MAX_CHUNK_ROWS:
                break
        for index, count in enumerate(counts):
            piece_start = day_start + index * minutes * _MINUTE
            yield _Chunk(piece_start, min(piece_start + minutes * _MINUTE, day_end), count)


def _sample_times(rng: np.random.Generator, start: int, end: int, count: int) -> np.ndarray:
    """`count` times in `[start, end)` drawn from the traffic curve (inverse CDF on the minute grid)."""
    cdf = np.concatenate(([0.0], np.cumsum(_minute_traffic(start, end))))
    times = np.floor(np.interp(rng.random(count) * cdf[-1], cdf, _grid(start, end))).astype(np.int64)
    return np.clip(times, start, end - 1)


# --------------------------------------------------------------------------------------------
# Resources: which pod, version and environment sent a row
# --------------------------------------------------------------------------------------------

#: Pods of a service in each environment, one per `POD_SUFFIXES` entry.
_INSTANCES_PER_SERVICE = len(POD_SUFFIXES)


def _version(service: Service, day: int, environment: str | None) -> str:
    """Semantic version on `day`; staging already runs the next release."""
    release = day // service.release_every_days + (1 if environment == "staging" else 0)
    return f"{service.major}.{release // 10 % 100}.{release % 10}"


_RESOURCE_TYPES = {
    "service_name": pa.string(),
    "service_version": pa.string(),
    "service_instance_id": pa.string(),
    "process_pid": pa.int32(),
    "deployment_environment": pa.string(),
    "otel_resource_attributes": pa.string(),
}


@functools.lru_cache(maxsize=8)
def _resource_columns(day: int, *, with_instances: bool) -> dict[str, pa.Array]:
    """Resource columns for every (service, environment[, pod]) on `day`, in `_resource_index` order.

    Metrics are reported per service, not per pod, so theirs carry no instance id or pid.
    """
    columns: dict[str, list[object]] = {name: [] for name in _RESOURCE_TYPES}
    for service_index, service in enumerate(SERVICES):
        for environment in ENVIRONMENTS:
            for pod in range(_INSTANCES_PER_SERVICE if with_instances else 1):
                version = _version(service, day, environment)
                instance_id = (
                    f"{service.name}-{service.pod_hash}-{POD_SUFFIXES[pod]}" if with_instances else None
                )
                pid = 7 + 31 * pod + service_index if with_instances else None
                resource = {
                    "service.name": service.name,
                    "service.version": version,
                    "service.namespace": NAMESPACE,
                    "service.instance.id": instance_id,
                    "process.pid": pid,
                    "deployment.environment.name": environment,
                    "telemetry.sdk.name": SDK[0],
                    "telemetry.sdk.language": SDK[1],
                    "telemetry.sdk.version": SDK[2],
                }
                row = (service.name, version, instance_id, pid, environment, _json_without_nulls(resource))
                for name, value in zip(_RESOURCE_TYPES, row, strict=True):
                    columns[name].append(value)
    return {name: pa.array(values, _RESOURCE_TYPES[name]) for name, values in columns.items()}


def _json_without_nulls(values: Mapping[str, object]) -> str:
    return json.dumps({key: value for key, value in values.items() if value is not None})


def _resource_index(
    service: np.ndarray, environment: np.ndarray, instance: np.ndarray | None = None
) -> np.ndarray:
    index = service * len(ENVIRONMENTS) + environment
    if instance is None:
        return index
    return index * _INSTANCES_PER_SERVICE + instance


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------

_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _hex_strings(raw: np.ndarray, valid: np.ndarray | None = None) -> pa.StringArray:
    """Lower-case hex text of each row of a `(rows, width)` uint8 array, as an Arrow string array."""
    rows, width = raw.shape
    data = _HEX[raw].tobytes()
    offsets = np.arange(0, (rows + 1) * 2 * width, 2 * width, dtype=np.int32)
    if valid is None:
        return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))
    bitmap = np.packbits(valid, bitorder="little")
    null_count = int(rows - np.count_nonzero(valid))
    return pa.StringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(bitmap), null_count
    )


_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class _ServerSpans:
    """What the request metrics need of a chunk's HTTP server spans."""

    start: np.ndarray
    duration_ms: np.ndarray
    route: np.ndarray
    environment: np.ndarray


def _lookup(values: Mapping[str, pa.Array], index: np.ndarray) -> dict[str, pa.Array]:
    """Row `i` of each column is `values[index[i]]`, as a dictionary array: nothing is copied."""
    indices = pa.array(index.astype(np.int32))
    return {name: pa.DictionaryArray.from_arrays(indices, column) for name, column in values.items()}


def _records_chunk(rng: np.random.Generator, chunk: _Chunk) -> tuple[pa.Table, _ServerSpans]:
    """The chunk's records (template columns still holding placeholders), sorted by start."""
    cat, n = _CATALOG, chunk.rows

    # Which traces: draw templates until they hold `n` rows; the last trace keeps only a prefix
    # (parents always precede their children in a template, so no row loses its parent).
    picks = rng.choice(len(cat.template_len), size=n // cat.min_len + 1, p=cat.template_p)
    filled = np.cumsum(cat.template_len[picks])
    traces = int(np.searchsorted(filled, n)) + 1
    template = picks[:traces]
    sizes = cat.template_len[template].copy()
    sizes[-1] -= filled[traces - 1] - n

    trace = np.repeat(np.arange(traces), sizes)
    first_row = np.cumsum(sizes) - sizes
    position = np.arange(n) - first_row[trace]
    g = cat.template_offset[template][trace] + position

    # When: roots follow the traffic curve; every trace ends inside the chunk.
    longest = max(0, (chunk.end - chunk.start - 1) // 2)
    duration = cat.median_us[template] * np.exp(cat.spread[template] * rng.standard_normal(traces))
    duration = np.clip(duration, 0, min(longest, 120 * _SECOND)).astype(np.int64)
    root_start = np.minimum(_sample_times(rng, chunk.start, chunk.end, traces), chunk.end - 1 - duration)

    # Leaf spans wobble inside their slot so that siblings are not all alike.
    start_frac, end_frac = cat.start_frac[g], cat.end_frac[g]
    wobble = np.where(cat.is_leaf[g] & ~cat.is_log[g], 0.3 * (end_frac - start_frac), 0.0)
    start_frac = start_frac + wobble * rng.random(n)
    end_frac = end_frac - wobble * rng.random(n)
    start = root_start[trace] + np.floor(start_frac * duration[trace]).astype(np.int64)
    end = root_start[trace] + np.floor(end_frac * duration[trace]).astype(np.int64)
    created = end + rng.integers(800_000, 4_000_000, n)

    # Who: per-trace environment, pod, user and business values.
    environment = rng.choice(len(ENVIRONMENTS), size=traces, p=ENVIRONMENT_P)
    pod = rng.integers(0, _INSTANCES_PER_SERVICE, traces)
    entity = rng.integers(100_000, 1_000_000, traces)
    user = 1 + np.floor(49_999 * rng.random(traces) ** 3).astype(np.int64)  # a few very active users
    small = rng.integers(1, 41, traces)
    cost = np.round(0.01 + np.exp(np.log(0.08) + 0.8 * rng.standard_normal(traces)), 2)
    trace_ids = np.frombuffer(rng.bytes(16 * traces), dtype=np.uint8).reshape(traces, 16)
    span_ids = np.frombuffer(rng.bytes(8 * n), dtype=np.uint8).reshape(n, 8)

    has_parent = cat.parent[g] >= 0
    parent_row = np.where(has_parent, first_row[trace] + cat.parent[g], 0)
    service = cat.service[g]
    resource = _resource_index(service, environment[trace], (pod[trace] + service) % _INSTANCES_PER_SERVICE)

    order = np.argsort(start, kind="stable")
    trace, g, start, end = trace[order], g[order], start[order], end[order]
    is_log = cat.is_log[g]
    day = np.full(n, chunk.start // _DAY, dtype=np.int32)
    columns = {
        "start_timestamp": pa.array(start, _TIMESTAMP),
        "end_timestamp": pa.array(end, _TIMESTAMP),
        "end_us": pa.array(end),
        "duration": pa.array((end - start) / _SECOND, mask=is_log),
        "trace_id": _hex_strings(trace_ids[trace]),
        "span_id": _hex_strings(span_ids[order]),
        "parent_span_id": _hex_strings(span_ids[parent_row[order]], has_parent[order]),
        "created_at": pa.array(created[order], _TIMESTAMP),
        "day": pa.array(day, pa.date32()),
        "fill_id": pa.array(entity[trace]),
        "fill_user": pa.array(user[trace]),
        "fill_n": pa.array(small[trace]),
        "fill_cost": pa.array(cost[trace]),
    }
    columns.update(_lookup(cat.columns, g))
    columns.update(_lookup(_resource_columns(chunk.start // _DAY, with_instances=True), resource[order]))
    table = pa.Table.from_pydict(columns)

    server = cat.route[g] >= 0
    spans = _ServerSpans(
        start=start[server],
        duration_ms=(end - start)[server] / 1000.0,
        route=cat.route[g][server],
        environment=environment[trace][server],
    )
    return table, spans


def _fill(column: str) -> str:
    """SQL putting the trace's values in place of the placeholders of a template column."""
    return (
        f"replace(replace(replace(replace({column}, '$COST', fill_cost), '$USER', fill_user), "
        f"'$ID', fill_id), '$N', fill_n)"
    )


_EXCEPTION_EVENTS = f"""CASE WHEN is_exception THEN json_array(json_object(
    'name', 'exception',
    'timestamp', strftime(make_timestamp(end_us), '%Y-%m-%dT%H:%M:%S.%fZ'),
    'attributes', json_object(
        'exception.type', exception_type,
        'exception.message', {_fill("exception_message_t")},
        'exception.stacktrace', {_fill("exception_stacktrace_t")},
        'exception.escaped', 'False'))) END"""

#: Every column of `records`, as SQL over a chunk; columns left out would silently be NULL.
_RECORD_COLUMNS: dict[str, str] = {
    "start_timestamp": "start_timestamp",
    "end_timestamp": "end_timestamp",
    "duration": "duration",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "parent_span_id": "parent_span_id",
    "kind": "kind",
    "level": "level",
    "span_name": "span_name",
    "message": _fill("message_t"),
    "log_body": "NULL",
    "tags": "tags",
    "attributes": _fill("attributes_t"),
    "is_exception": "is_exception",
    "exception_type": "exception_type",
    "exception_message": _fill("exception_message_t"),
    "exception_stacktrace": _fill("exception_stacktrace_t"),
    "otel_status_code": "otel_status_code",
    "otel_status_message": _fill("otel_status_message_t"),
    "otel_events": _EXCEPTION_EVENTS,
    "otel_links": "NULL",
    "otel_scope_name": "otel_scope_name",
    "otel_scope_version": "otel_scope_version",
    "otel_scope_attributes": "NULL",
    "otel_resource_attributes": "otel_resource_attributes",
    "service_name": "service_name",
    "service_version": "service_version",
    "service_namespace": f"'{NAMESPACE}'",
    "service_instance_id": "service_instance_id",
    "process_pid": "process_pid",
    "deployment_environment": "deployment_environment",
    "telemetry_sdk_name": f"'{SDK[0]}'",
    "telemetry_sdk_language": f"'{SDK[1]}'",
    "telemetry_sdk_version": f"'{SDK[2]}'",
    "http_response_status_code": "http_response_status_code",
    "http_method": "http_method",
    "http_route": "http_route",
    "url_full": _fill("url_full_t"),
    "url_path": _fill("url_path_t"),
    "url_query": _fill("url_query_t"),
    "created_at": "created_at",
    "day": "day",
    "project_id": "$project_id",
}


def _insert_sql(table: str, columns: Mapping[str, str], source: str) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    values = ",\n  ".join(f'{expression} AS "{name}"' for name, expression in columns.items())
    return f"INSERT INTO {STORE_SCHEMA}.{table} ({names})\nSELECT\n  {values}\nFROM {source}\nORDER BY seq"


_CHUNK_VIEW = "__logfire_demo_chunk"
_RECORDS_SQL = _insert_sql(
    RECORDS.name,
    _RECORD_COLUMNS,
    f"(SELECT * REPLACE (CAST(fill_id AS VARCHAR) AS fill_id, CAST(fill_user AS VARCHAR) AS fill_user, "
    f"CAST(fill_n AS VARCHAR) AS fill_n, CAST(fill_cost AS VARCHAR) AS fill_cost) FROM {_CHUNK_VIEW})",
)


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

#: OpenTelemetry's default explicit bucket bounds for durations in milliseconds.
_DURATION_BOUNDS = np.array(
    [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000], dtype=float
)
_BUCKETS = len(_DURATION_BOUNDS) + 1


@dataclass(frozen=True)
class _Metric:
    name: str
    type: str
    unit: str
    description: str
    temporality: str | None
    monotonic: bool | None
    scope: tuple[str, str]


# In the order their points are written at each minute.
_METRICS = (
    _Metric(
        "http.server.requests", "sum", "{request}", "Number of HTTP requests served.", "delta", True, FASTAPI
    ),
    _Metric(
        "http.server.duration",
        "histogram",
        "ms",
        "Duration of HTTP server requests.",
        "delta",
        None,
        FASTAPI,
    ),
    _Metric(
        "process.memory.usage",
        "gauge",
        "By",
        "Resident memory of the service process.",
        None,
        None,
        ("opentelemetry.instrumentation.system_metrics", "0.59b0"),
    ),
)
_REQUESTS, _DURATION, _MEMORY = range(len(_METRICS))
#: Columns that depend only on the metric, as dictionaries indexed by its position in `_METRICS`.
_METRIC_COLUMNS: dict[str, pa.Array] = {
    "metric_name": pa.array([m.name for m in _METRICS], pa.string()),
    "metric_type": pa.array([m.type for m in _METRICS], pa.string()),
    "unit": pa.array([m.unit for m in _METRICS], pa.string()),
    "metric_description": pa.array([m.description for m in _METRICS], pa.string()),
    "aggregation_temporality": pa.array([m.temporality for m in _METRICS], pa.string()),
    "is_monotonic": pa.array([m.monotonic for m in _METRICS], pa.bool_()),
    "histogram_explicit_bounds": pa.array(
        [_DURATION_BOUNDS.tolist() if i == _DURATION else None for i in range(len(_METRICS))],
        pa.list_(pa.float64()),
    ),
    "otel_scope_name": pa.array([m.scope[0] for m in _METRICS], pa.string()),
    "otel_scope_version": pa.array([m.scope[1] for m in _METRICS], pa.string()),
}
#: Point attributes: one per HTTP route, then the memory gauge's.
_POINT_ATTRIBUTES = pa.array(
    [
        json.dumps({"http.request.method": r.method, "http.route": r.route, "url.scheme": "https"})
        for r in _CATALOG.routes
    ]
    + [json.dumps({"process.memory.type": "rss"})],
    pa.string(),
)
_MEMORY_ATTRIBUTES = len(_CATALOG.routes)


@dataclass(frozen=True)
class _Points:
    """Metric points of one chunk, column by column, in no particular order."""

    metric: np.ndarray
    recorded: np.ndarray
    service: np.ndarray
    environment: np.ndarray
    attributes: np.ndarray  # index into `_POINT_ATTRIBUTES`
    value: np.ndarray  # scalar value, or the histogram's sum
    count: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    buckets: np.ndarray  # (points, _BUCKETS); only meaningful for histogram points


def _minute_marks(chunk: _Chunk, end: int) -> np.ndarray:
    """Times a point is recorded in this chunk: each minute after its start, before `end`."""
    return np.arange(chunk.start + _MINUTE, min(chunk.end, end - 1) + 1, _MINUTE, dtype=np.int64)


def _request_points(chunk: _Chunk, spans: _ServerSpans, marks: np.ndarray) -> _Points:
    """A request counter and a duration histogram point per (minute, environment, route) with traffic."""
    routes, environments = len(_CATALOG.routes), len(ENVIRONMENTS)
    minute = (spans.start - chunk.start) // _MINUTE
    keep = minute < len(marks)  # spans in a last, unfinished minute are not reported yet
    key = (minute[keep] * environments + spans.environment[keep]) * routes + spans.route[keep]
    groups, group = np.unique(key, return_inverse=True)
    durations = spans.duration_ms[keep]
    counts = np.bincount(group, minlength=len(groups))
    sums = np.bincount(group, weights=durations, minlength=len(groups))
    if len(groups):
        by_group = durations[np.argsort(group, kind="stable")]
        starts = np.cumsum(counts) - counts
        minimums, maximums = np.minimum.reduceat(by_group, starts), np.maximum.reduceat(by_group, starts)
    else:
        minimums = maximums = np.zeros(0)
    bucket = np.searchsorted(_DURATION_BOUNDS, durations, side="left")  # bucket i holds (b[i-1], b[i]]
    buckets = np.bincount(group * _BUCKETS + bucket, minlength=len(groups) * _BUCKETS).reshape(-1, _BUCKETS)

    route = groups % routes
    both = np.concatenate
    return _Points(
        metric=both((np.full(len(groups), _REQUESTS), np.full(len(groups), _DURATION))),
        recorded=both((marks[groups // routes // environments],) * 2),
        service=both((np.array([r.service for r in _CATALOG.routes], dtype=np.int64)[route],) * 2),
        environment=both((groups // routes % environments,) * 2),
        attributes=both((route, route)),
        value=both((counts.astype(np.float64), sums)),
        count=both((counts, counts)),
        minimum=both((minimums, minimums)),
        maximum=both((maximums, maximums)),
        buckets=both((buckets, buckets)),
    )


def _memory_points(rng: np.random.Generator, marks: np.ndarray) -> _Points:
    """A memory gauge point per (minute, service) of the production pods: daily swell, slow leak, GC."""
    recorded, service = (a.ravel() for a in np.meshgrid(marks, np.arange(len(SERVICES)), indexing="ij"))
    base = np.array([s.memory_mb for s in SERVICES])[service] * 2**20
    leak = ((recorded // _MINUTE + 17 * service) % 90) / 90.0
    memory = np.round(
        base * (1.0 + 0.25 * _traffic(recorded) + 0.15 * leak + rng.normal(0.0, 0.01, len(recorded)))
    )
    zeros = np.zeros(len(recorded), dtype=np.int64)
    return _Points(
        metric=np.full(len(recorded), _MEMORY),
        recorded=recorded,
        service=service,
        environment=np.full(len(recorded), ENVIRONMENTS.index("prod")),
        attributes=np.full(len(recorded), _MEMORY_ATTRIBUTES),
        value=memory,
        count=zeros,
        minimum=zeros.astype(np.float64),
        maximum=zeros.astype(np.float64),
        buckets=np.zeros((len(recorded), _BUCKETS), dtype=np.int64),
    )


def _metrics_chunk(rng: np.random.Generator, chunk: _Chunk, spans: _ServerSpans, end: int) -> pa.Table | None:
    """The chunk's metric points, consistent with its spans, sorted by recorded time.

    A point recorded at minute mark `m` covers `[m - 60 s, m)`, the way a delta exporter reports
    the minute that just ended. Minutes without requests get no request points (as with
    OpenTelemetry's delta temporality); the memory gauge reports every minute.
    """
    marks = _minute_marks(chunk, end)
    if not len(marks):
        return None
    requests, memory = _request_points(chunk, spans, marks), _memory_points(rng, marks)
    p = _Points(
        *(np.concatenate((getattr(requests, f), getattr(memory, f))) for f in _Points.__dataclass_fields__)
    )
    order = np.lexsort((p.attributes, p.environment, p.service, p.metric, p.recorded))
    metric, recorded = p.metric[order], p.recorded[order]
    histogram = metric == _DURATION
    offsets = np.concatenate(([0], np.cumsum(np.where(histogram, _BUCKETS, 0)))).astype(np.int32)
    columns: dict[str, pa.Array] = {
        "recorded_timestamp": pa.array(recorded, _TIMESTAMP),
        "start_timestamp": pa.array(recorded - _MINUTE, _TIMESTAMP, mask=metric == _MEMORY),
        "scalar_value": pa.array(p.value[order], mask=histogram),
        "histogram_count": pa.array(p.count[order].astype(np.int32), mask=~histogram),
        "histogram_sum": pa.array(p.value[order], mask=~histogram),
        "histogram_min": pa.array(p.minimum[order], mask=~histogram),
        "histogram_max": pa.array(p.maximum[order], mask=~histogram),
        "histogram_bucket_counts": pa.ListArray.from_arrays(
            pa.array(offsets), pa.array(p.buckets[order][histogram].ravel()), mask=pa.array(~histogram)
        ),
        "attributes": pa.DictionaryArray.from_arrays(
            pa.array(p.attributes[order].astype(np.int32)), _POINT_ATTRIBUTES
        ),
        "created_at": pa.array(recorded + rng.integers(500_000, 3_000_000, len(order)), _TIMESTAMP),
        "day": pa.array((recorded // _DAY).astype(np.int32), pa.date32()),
        **_lookup(_METRIC_COLUMNS, metric),
        **_lookup(
            _resource_columns(chunk.start // _DAY, with_instances=False),
            _resource_index(p.service[order], p.environment[order]),
        ),
    }
    return pa.Table.from_pydict(columns)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

#: Columns of `metrics` that the chunk table does not carry.
_METRIC_CONSTANTS = {
    "exemplars": "NULL",
    "otel_scope_attributes": "NULL",
    "service_namespace": _RECORD_COLUMNS["service_namespace"],
    "telemetry_sdk_name": _RECORD_COLUMNS["telemetry_sdk_name"],
    "telemetry_sdk_language": _RECORD_COLUMNS["telemetry_sdk_language"],
    "telemetry_sdk_version": _RECORD_COLUMNS["telemetry_sdk_version"],
    "project_id": "$project_id",
}
_METRICS_SQL = _insert_sql(
    METRICS.name,
    {name: _METRIC_CONSTANTS.get(name, f'"{name}"') for name in METRICS.column_names},
    _CHUNK_VIEW,
)


class _Writer:
    """Collects chunk tables and inserts them in batches of about `_MAX_CHUNK_ROWS` rows.

    Small chunks (quiet hours, metrics) would otherwise cost one statement each. A `seq`
    column numbers the rows in generation order, which is time order, so the INSERT can
    keep that order even when DuckDB does not preserve insertion order.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str, project_id: str) -> None:
        self._con, self._sql, self._project_id = con, sql, project_id
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= _MAX_CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending_rows:
            return
        batch = pa.concat_tables(self._pending)
        batch = batch.append_column("seq", pa.array(np.arange(batch.num_rows, dtype=np.int64)))
        self._con.register(_CHUNK_VIEW, batch)
        try:
            self._con.execute(self._sql, {"project_id": self._project_id})
        finally:
            with contextlib.suppress(duckdb.Error):  # fails in an aborted transaction; keep the cause
                self._con.unregister(_CHUNK_VIEW)
        self.rows += batch.num_rows
        self._pending, self._pending_rows = [], 0


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the caller has a transaction open.

    DuckDB has no flag for it, and a failed BEGIN would abort the caller's transaction. But in
    auto-commit mode every statement runs in a new transaction, so the id changes between two
    statements only when no transaction is open.
    """
    first, second = (con.execute("SELECT txid_current()").fetchall()[0][0] for _ in range(2))
    return first == second


@contextlib.contextmanager
def _atomic(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a transaction of our own, unless the caller's is open (then it decides)."""
    if _in_transaction(con):
        yield
        return
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _utc_microseconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("end must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _chunk_rng(seed: int, chunk: _Chunk) -> np.random.Generator:
    mask = 2**64 - 1
    return np.random.default_rng(
        np.random.SeedSequence([seed & mask, chunk.start & mask, chunk.end & mask, chunk.rows])
    )


_NO_SERVER_SPANS = _ServerSpans(
    *(np.zeros(0, dtype=dtype) for dtype in (np.int64, np.float64, np.int64, np.int64))
)


def generate_demo(
    con: duckdb.DuckDBPyConnection,
    *,
    days: int,
    rows_per_day: int,
    seed: int = 0,
    end: datetime | None = None,
    project_id: str = "local",
) -> DemoSummary:
    """Insert `days` days of a small shop's telemetry into the store tables, ending at `end`.

    Records span `[start, end)`, `start` being midnight UTC `days` days before the UTC day of
    `end` (default: now). Every full day gets exactly `rows_per_day` records; the partial day of
    `end` gets its share by clock time, `rows_per_day * elapsed // 24 h`. Within a day, traffic
    follows a day/night curve (UTC). `days=0` inserts nothing.

    Metrics are recorded each minute inside the same span: per HTTP route and environment, a
    request count and a duration histogram that agree with the server spans of that minute
    (only for minutes with requests), and a memory gauge per service (every minute, whatever
    `rows_per_day`).

    The same arguments (with an explicit `end`) insert byte-identical rows, in time order. The
    tables must exist (`schema.create_tables`). All or nothing: the rows are inserted in a
    transaction of their own, or in the caller's if one is open.
    """
    if days < 0 or rows_per_day < 0:
        raise ValueError("days and rows_per_day must not be negative")
    end_us = _utc_microseconds(end if end is not None else datetime.now(timezone.utc))
    start_us = (end_us // _DAY - days) * _DAY if days else end_us

    records = _Writer(con, _RECORDS_SQL, project_id)
    metrics = _Writer(con, _METRICS_SQL, project_id)
    with _atomic(con):
        for chunk in _chunks(start_us, end_us, rows_per_day):
            rng = _chunk_rng(seed, chunk)
            spans = _NO_SERVER_SPANS
            if chunk.rows:
                table, spans = _records_chunk(rng, chunk)
                records.add(table)
            points = _metrics_chunk(rng, chunk, spans, end_us)
            if points is not None:
                metrics.add(points)
        records.flush()
        metrics.flush()
    return DemoSummary(
        records=records.rows,
        metrics=metrics.rows,
        start=_EPOCH + timedelta(microseconds=start_us),
        end=_EPOCH + timedelta(microseconds=end_us),
    )
