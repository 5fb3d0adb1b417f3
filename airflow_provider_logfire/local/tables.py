"""The `records` and `metrics` tables of the local server, as the production service has them.

One description of each column (Arrow type, Postgres-style name, nullability) drives the stored
Arrow schema, the `/v1/schemas` endpoint, Parquet and OTLP loading (which fill missing columns)
and the demo data, so they cannot drift apart. Columns, types and nullability follow the
service's recorded `/v1/schemas` (see `logfire-api.md`): 44 columns in `records`, 41 in `metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    postgres_type: str
    nullable: bool
    description: str

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.arrow_type, self.nullable)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    #: The column `min_timestamp`/`max_timestamp` filter on.
    time_column: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def schema(self) -> pa.Schema:
        """The stored Arrow schema: what a query of the table sees."""
        return pa.schema([c.field for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, kind: str, nullable: bool, description: str) -> Column:
    arrow_type, postgres_type = _TYPES[kind]
    return Column(name, arrow_type, postgres_type, nullable, description)


#: Timestamps are microseconds in UTC, as DataFusion reads them from Logfire's storage.
TIMESTAMP = pa.timestamp("us", tz="UTC")

# kind -> (Arrow type, Postgres-style name reported by /v1/schemas)
_TYPES = {
    "timestamptz": (TIMESTAMP, "TIMESTAMP WITH TIME ZONE"),
    "double": (pa.float64(), "DOUBLE PRECISION"),
    "text": (pa.string(), "TEXT"),
    "json": (pa.string(), "TEXT"),
    "integer": (pa.int32(), "INTEGER"),
    "boolean": (pa.bool_(), "BOOLEAN"),
    "text[]": (pa.list_(pa.string()), "TEXT[]"),
    "integer[]": (pa.list_(pa.int64()), "INTEGER[]"),
    "double[]": (pa.list_(pa.float64()), "DOUBLE PRECISION[]"),
    "date": (pa.date32(), "DATE"),
}

_SHARED_TAIL = (
    _c("otel_scope_name", "text", True, "Name of the instrumentation scope."),
    _c("otel_scope_version", "text", True, "Version of the instrumentation scope."),
    _c("otel_scope_attributes", "json", True, "Attributes of the instrumentation scope, as JSON."),
    _c("otel_resource_attributes", "json", True, "Resource attributes, as JSON."),
    _c("service_name", "text", False, "Resource attribute `service.name`."),
    _c("service_version", "text", True, "Resource attribute `service.version`."),
    _c("service_namespace", "text", True, "Resource attribute `service.namespace`."),
    _c("service_instance_id", "text", True, "Resource attribute `service.instance.id`."),
    _c("process_pid", "integer", True, "Resource attribute `process.pid`."),
    _c("deployment_environment", "text", True, "Resource attribute `deployment.environment.name`."),
    _c("telemetry_sdk_name", "text", True, "Resource attribute `telemetry.sdk.name`."),
    _c("telemetry_sdk_language", "text", True, "Resource attribute `telemetry.sdk.language`."),
    _c("telemetry_sdk_version", "text", True, "Resource attribute `telemetry.sdk.version`."),
)

RECORDS = Table(
    name="records",
    description="Spans and logs: one row per span or log.",
    time_column="start_timestamp",
    columns=(
        _c("start_timestamp", "timestamptz", False, "When the span started, or the time of the log."),
        _c("end_timestamp", "timestamptz", False, "When the span ended; equals start for logs."),
        _c("duration", "double", True, "Span duration in seconds; null for logs."),
        _c("trace_id", "text", False, "32 hex characters identifying the trace."),
        _c("span_id", "text", False, "16 hex characters identifying the span."),
        _c("parent_span_id", "text", True, "The parent span's id; null for root spans."),
        _c("kind", "text", False, "`span`, `log` or `span_event`."),
        _c("level", "integer", False, "trace 1, debug 5, info 9, notice 10, warn 13, error 17, fatal 21."),
        _c("span_name", "text", False, "Low-cardinality label shared by similar records."),
        _c("message", "text", False, "Human-readable message, with attributes filled in."),
        _c("log_body", "text", True, "Body of an OpenTelemetry log record."),
        _c("tags", "text[]", True, "Tags given to the span or log; `[]` when it has none."),
        _c("attributes", "json", True, "Attributes not mapped to a column, as JSON."),
        _c("attributes_json_schema", "json", True, "JSON schema of the attributes, as the SDK sent it."),
        _c("is_exception", "boolean", True, "Whether an exception was recorded."),
        _c("exception_type", "text", True, "Fully qualified exception type."),
        _c("exception_message", "text", True, "Exception message."),
        _c("exception_stacktrace", "text", True, "Formatted stack trace."),
        _c("otel_status_code", "text", True, "`OK`, `ERROR` or `UNSET`."),
        _c("otel_status_message", "text", True, "Status description."),
        _c("otel_events", "json", True, "Span events, as JSON."),
        _c("otel_links", "json", True, "Span links, as JSON."),
        *_SHARED_TAIL,
        _c("http_response_status_code", "integer", True, "Attribute `http.response.status_code`."),
        _c("http_method", "text", True, "Attribute `http.method` / `http.request.method`."),
        _c("http_route", "text", True, "Attribute `http.route`."),
        _c("url_full", "text", True, "Attribute `url.full`."),
        _c("url_path", "text", True, "Attribute `url.path`."),
        _c("url_query", "text", True, "Attribute `url.query`."),
        _c("created_at", "timestamptz", False, "When the row was inserted."),
        _c("day", "date", False, "UTC date of `start_timestamp`."),
        _c("project_id", "text", False, "Project the row belongs to."),
    ),
)

METRICS = Table(
    name="metrics",
    description="Pre-aggregated OpenTelemetry metrics.",
    time_column="recorded_timestamp",
    columns=(
        _c(
            "recorded_timestamp",
            "timestamptz",
            True,
            "When the data point was recorded (nullable, as in production).",
        ),
        _c("start_timestamp", "timestamptz", True, "Start of the aggregation interval."),
        _c("metric_name", "text", False, "Name of the metric."),
        _c("metric_type", "text", False, "`sum`, `gauge`, `histogram` or `exponential_histogram`."),
        _c("unit", "text", False, "Unit of the metric."),
        _c("metric_description", "text", True, "Description of the metric."),
        _c("aggregation_temporality", "text", True, "`delta` or `cumulative`."),
        _c("is_monotonic", "boolean", True, "Whether a sum only increases."),
        _c("scalar_value", "double", True, "Value of a sum or gauge point."),
        _c("histogram_count", "integer", True, "Number of observations in a histogram point."),
        _c("histogram_sum", "double", True, "Sum of the observations."),
        _c("histogram_min", "double", True, "Smallest observation."),
        _c("histogram_max", "double", True, "Largest observation."),
        _c("histogram_bucket_counts", "integer[]", True, "Count per bucket."),
        _c("histogram_explicit_bounds", "double[]", True, "Bucket boundaries."),
        _c("exp_histogram_scale", "integer", True, "Scale of an exponential histogram point."),
        _c("exp_histogram_zero_count", "integer", True, "Observations in the zero bucket."),
        _c("exp_histogram_zero_threshold", "double", True, "Width of the zero bucket."),
        _c("exp_histogram_positive_bucket_counts", "integer[]", True, "Counts of the positive buckets."),
        _c(
            "exp_histogram_positive_bucket_counts_offset",
            "integer",
            True,
            "Index of the first positive bucket.",
        ),
        _c("exp_histogram_negative_bucket_counts", "integer[]", True, "Counts of the negative buckets."),
        _c(
            "exp_histogram_negative_bucket_counts_offset",
            "integer",
            True,
            "Index of the first negative bucket.",
        ),
        _c("exemplars", "json", True, "Exemplars, as JSON."),
        _c("attributes", "json", True, "Data point attributes, as JSON."),
        _c("attributes_json_schema", "json", True, "JSON schema of the attributes, as the SDK sent it."),
        *_SHARED_TAIL,
        _c("created_at", "timestamptz", False, "When the row was inserted."),
        _c("day", "date", False, "UTC date of `recorded_timestamp`."),
        _c("project_id", "text", False, "Project the row belongs to."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (RECORDS, METRICS)}


def schemas_document() -> dict:
    """The body of `GET /v1/schemas`, shaped as the production service answers it.

    Columns are listed alphabetically with empty descriptions, as recorded from the service.
    """
    return {
        "tables": [
            {
                "name": t.name,
                "description": "",
                "schema": {
                    c.name: {"data_type": c.postgres_type, "nullable": c.nullable, "description": ""}
                    for c in sorted(t.columns, key=lambda c: c.name)
                },
            }
            for t in TABLES.values()
        ]
    }
