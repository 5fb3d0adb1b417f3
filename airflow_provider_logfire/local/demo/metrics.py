"""Demo metrics: per-minute points that agree with the chunk's server spans.

A request counter and a duration histogram per (minute, environment, route) with traffic, and a
memory gauge per service every minute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from airflow_provider_logfire.local.demo.records import (
    CATALOG,
    RECORD_COLUMNS,
    ServerSpans,
)
from airflow_provider_logfire.local.demo.timeline import (
    DAY,
    MINUTE,
    TIMESTAMP,
    Chunk,
    lookup,
    resource_columns,
    resource_index,
    traffic,
)
from airflow_provider_logfire.local.demo.traces import ENVIRONMENTS, FASTAPI, SERVICES
from airflow_provider_logfire.local.tables import METRICS

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
        for r in CATALOG.routes
    ]
    + [json.dumps({"process.memory.type": "rss"})],
    pa.string(),
)
_MEMORY_ATTRIBUTES = len(CATALOG.routes)


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


def _minute_marks(chunk: Chunk, end: int) -> np.ndarray:
    """Times a point is recorded in this chunk: each minute after its start, before `end`."""
    return np.arange(chunk.start + MINUTE, min(chunk.end, end - 1) + 1, MINUTE, dtype=np.int64)


def _request_points(chunk: Chunk, spans: ServerSpans, marks: np.ndarray) -> _Points:
    """A request counter and a duration histogram point per (minute, environment, route) with traffic."""
    routes, environments = len(CATALOG.routes), len(ENVIRONMENTS)
    minute = (spans.start - chunk.start) // MINUTE
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
        service=both((np.array([r.service for r in CATALOG.routes], dtype=np.int64)[route],) * 2),
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
    leak = ((recorded // MINUTE + 17 * service) % 90) / 90.0
    memory = np.round(
        base * (1.0 + 0.25 * traffic(recorded) + 0.15 * leak + rng.normal(0.0, 0.01, len(recorded)))
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


def metrics_chunk(rng: np.random.Generator, chunk: Chunk, spans: ServerSpans, end: int) -> pa.Table | None:
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
        "recorded_timestamp": pa.array(recorded, TIMESTAMP),
        "start_timestamp": pa.array(recorded - MINUTE, TIMESTAMP, mask=metric == _MEMORY),
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
        "created_at": pa.array(recorded + rng.integers(500_000, 3_000_000, len(order)), TIMESTAMP),
        "day": pa.array((recorded // DAY).astype(np.int32), pa.date32()),
        **lookup(_METRIC_COLUMNS, metric),
        **lookup(
            resource_columns(chunk.start // DAY, with_instances=False),
            resource_index(p.service[order], p.environment[order]),
        ),
    }
    return pa.Table.from_pydict(columns)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

#: Columns of `metrics` that the chunk table does not carry.
_METRIC_CONSTANTS = {
    "exemplars": "NULL",
    "attributes_json_schema": "NULL",
    **{name: "NULL" for name in METRICS.column_names if name.startswith("exp_histogram_")},
    "otel_scope_attributes": "NULL",
    "service_namespace": RECORD_COLUMNS["service_namespace"],
    "telemetry_sdk_name": RECORD_COLUMNS["telemetry_sdk_name"],
    "telemetry_sdk_language": RECORD_COLUMNS["telemetry_sdk_language"],
    "telemetry_sdk_version": RECORD_COLUMNS["telemetry_sdk_version"],
    "project_id": "$project_id",
}
#: Every column of `metrics`, as SQL over a chunk.
METRIC_COLUMNS = {name: _METRIC_CONSTANTS.get(name, f'"{name}"') for name in METRICS.column_names}
