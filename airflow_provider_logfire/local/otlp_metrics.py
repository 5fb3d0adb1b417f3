"""Rows of `metrics` from a decoded OTLP metrics message, mapped the way Logfire maps them.

One row per data point: sums and gauges fill `scalar_value`; histograms their count, sum, min,
max, bucket counts and bounds; exponential histograms the `exp_histogram_*` columns; summaries
the scalar fields the table has. Resource and scope columns come from the `records` mapping's
`otlp_rows.scoped_items`; attribute values and the Arrow table from `otlp_values`, as there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_provider_logfire.local.otlp_rows import scoped_items
from airflow_provider_logfire.local.otlp_values import (
    attribute_map,
    compact_json,
    finite,
    hex_id,
    int32,
    iso_time,
    json_or_none,
    micros,
    rows_table,
)
from airflow_provider_logfire.local.tables import METRICS

if TYPE_CHECKING:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

_TEMPORALITIES = {1: "delta", 2: "cumulative"}


def metrics_to_rows(request: ExportMetricsServiceRequest) -> pa.Table:
    """One `metrics` row per data point of the request.

    Sums and gauges fill `scalar_value`; histograms their count, sum, min, max, bucket counts and
    bounds; exponential histograms and summaries only the scalar fields the table has.
    """
    rows = []
    for resource, scope, metric in scoped_items(request.resource_metrics, "scope_metrics", "metrics"):
        common = {
            "metric_name": metric.name,
            "unit": metric.unit,
            "metric_description": metric.description or None,
            **scope,
            **resource,
        }
        for point_columns in _points(metric):
            rows.append({**common, **point_columns})
    return rows_table(METRICS, rows)


def _points(metric: Any) -> Iterable[dict[str, Any]]:
    kind = metric.WhichOneof("data")
    if kind == "sum":
        shared = {
            "metric_type": "sum",
            "aggregation_temporality": _TEMPORALITIES.get(metric.sum.aggregation_temporality),
            "is_monotonic": metric.sum.is_monotonic,
        }
        return ({**shared, **_number_point(p)} for p in metric.sum.data_points)
    if kind == "gauge":
        return ({"metric_type": "gauge", **_number_point(p)} for p in metric.gauge.data_points)
    if kind == "histogram":
        temporality = _TEMPORALITIES.get(metric.histogram.aggregation_temporality)
        return (
            {"metric_type": "histogram", "aggregation_temporality": temporality, **_histogram_point(p)}
            for p in metric.histogram.data_points
        )
    if kind == "exponential_histogram":
        temporality = _TEMPORALITIES.get(metric.exponential_histogram.aggregation_temporality)
        return (
            {
                "metric_type": "exponential_histogram",
                "aggregation_temporality": temporality,
                **_histogram_scalars(p),
                **_exponential_buckets(p),
            }
            for p in metric.exponential_histogram.data_points
        )
    if kind == "summary":
        return (
            {
                "metric_type": "summary",
                "aggregation_temporality": "cumulative",
                **_point_common(p),
                "histogram_count": int32(p.count),
                "histogram_sum": p.sum,
            }
            for p in metric.summary.data_points
        )
    return ()


def _point_common(point: Any) -> dict[str, Any]:
    return {
        "recorded_timestamp": micros(point.time_unix_nano),
        "start_timestamp": micros(point.start_time_unix_nano) if point.start_time_unix_nano else None,
        "attributes": compact_json(attribute_map(point.attributes)),
    }


def _number_point(point: Any) -> dict[str, Any]:
    return {
        **_point_common(point),
        "scalar_value": _number(point),
        "exemplars": json_or_none([_exemplar(e) for e in point.exemplars]),
    }


def _histogram_scalars(point: Any) -> dict[str, Any]:
    return {
        **_point_common(point),
        "histogram_count": int32(point.count),
        "histogram_sum": point.sum if point.HasField("sum") else None,
        "histogram_min": point.min if point.HasField("min") else None,
        "histogram_max": point.max if point.HasField("max") else None,
        "exemplars": json_or_none([_exemplar(e) for e in point.exemplars]),
    }


def _exponential_buckets(point: Any) -> dict[str, Any]:
    """The `exp_histogram_*` columns of an exponential histogram point."""
    return {
        "exp_histogram_scale": int32(point.scale),
        "exp_histogram_zero_count": int32(point.zero_count),
        "exp_histogram_zero_threshold": point.zero_threshold,
        "exp_histogram_positive_bucket_counts": list(point.positive.bucket_counts),
        "exp_histogram_positive_bucket_counts_offset": int32(point.positive.offset),
        "exp_histogram_negative_bucket_counts": list(point.negative.bucket_counts),
        "exp_histogram_negative_bucket_counts_offset": int32(point.negative.offset),
    }


def _histogram_point(point: Any) -> dict[str, Any]:
    return {
        **_histogram_scalars(point),
        "histogram_bucket_counts": list(point.bucket_counts),
        "histogram_explicit_bounds": list(point.explicit_bounds),
    }


def _number(point: Any) -> float | None:
    """The value of a number point or exemplar (`as_double` or `as_int`), as a float."""
    which = point.WhichOneof("value")
    return None if which is None else float(getattr(point, which))


def _exemplar(exemplar: Any) -> dict[str, Any]:
    return {
        "timestamp": iso_time(exemplar.time_unix_nano),
        "value": finite(_number(exemplar)),
        "trace_id": hex_id(exemplar.trace_id),
        "span_id": hex_id(exemplar.span_id),
        "filtered_attributes": attribute_map(exemplar.filtered_attributes),
    }
