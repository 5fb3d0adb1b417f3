"""Demo records: trace templates flattened into arrays, then drawn per chunk into Arrow rows.

The catalogue turns `traces.TEMPLATES` into per-template-row arrays that numpy indexes per
record; `records_chunk` draws which traces occur in a chunk, when and for whom, and returns the
rows with template texts still holding placeholders, which `RECORD_COLUMNS` fills in (DataFusion SQL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from airflow_provider_logfire.local.demo.timeline import (
    DAY,
    INSTANCES_PER_SERVICE,
    SECOND,
    TIMESTAMP,
    Chunk,
    lookup,
    resource_columns,
    resource_index,
    sample_times,
)
from airflow_provider_logfire.local.demo.traces import (
    ENVIRONMENT_P,
    ENVIRONMENTS,
    NAMESPACE,
    SDK,
    SERVICES,
    TEMPLATES,
    SpanException,
    Template,
    check_template,
)

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
        #: Logs and span events: points in time, without a duration.
        self.is_point = np.array([s.kind in ("log", "span_event") for s in steps])
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

        # Each span's span event (at most one, see `check_template`): its position in the template.
        event_of: dict[tuple[int, int], int] = {
            (ti, step.parent): pos
            for ti, t in enumerate(templates)
            for pos, step in enumerate(t.steps)
            if step.kind == "span_event" and step.parent is not None
        }
        self.event_position = np.array(
            [event_of.get((ti, pos), -1) for ti, t in enumerate(templates) for pos in range(len(t.steps))],
            dtype=np.int64,
        )
        events = [
            templates[ti].steps[event_of[(ti, pos)]] if (ti, pos) in event_of else None
            for ti, t in enumerate(templates)
            for pos in range(len(t.steps))
        ]

        exceptions = [s.exception for s in steps]
        #: Columns that depend only on the template row: the dictionaries of per-row dictionary
        #: arrays, so a chunk refers to them by index instead of copying strings per row.
        self.columns: dict[str, pa.Array] = {
            "kind": pa.array([s.kind for s in steps], pa.string()),
            "level": pa.array([s.level for s in steps], pa.int32()),
            "span_name": pa.array([s.name for s in steps], pa.string()),
            "message_t": pa.array([s.message for s in steps], pa.string()),
            "tags": pa.array([list(s.tags or ()) for s in steps], pa.list_(pa.string())),  # [] as on Logfire
            "attributes_t": pa.array([s.attributes for s in steps], pa.string()),
            "is_exception": pa.array([e is not None for e in exceptions], pa.bool_()),
            "exception_type": pa.array([e.type if e else None for e in exceptions], pa.string()),
            "exception_message_t": pa.array([e.message if e else None for e in exceptions], pa.string()),
            "exception_stacktrace_t": pa.array(
                [e.stacktrace if e else None for e in exceptions], pa.string()
            ),
            # JSON-escaped once here; the placeholders need no escaping, so filling the escaped
            # text gives the escaped filled text, ready to be put into `otel_events`.
            "exception_message_j": pa.array([_escaped(e.message) if e else None for e in exceptions]),
            "exception_stacktrace_j": pa.array([_escaped(e.stacktrace) if e else None for e in exceptions]),
            # A span event has no status of its own.
            "otel_status_code": pa.array(
                [None if s.kind == "span_event" else "ERROR" if s.error else "UNSET" for s in steps],
                pa.string(),
            ),
            # The span's span event, for its `otel_events` entry (name JSON-escaped, as above).
            "event_name_j": pa.array([_escaped(e.name) if e else None for e in events], pa.string()),
            "event_attributes_t": pa.array([e.attributes if e else None for e in events], pa.string()),
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


def _escaped(text: str) -> str:
    """`text` as the inside of a JSON string literal."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _status_message(exception: SpanException) -> str:
    """OpenTelemetry's status description for an exception: `ReadTimeout: The read ...`."""
    short_type = exception.type.rsplit(".", 1)[-1]
    return f"{short_type}: {exception.message}" if exception.message else short_type


CATALOG = _Catalog(TEMPLATES)


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


@dataclass(frozen=True)
class ServerSpans:
    """What the request metrics need of a chunk's HTTP server spans."""

    start: np.ndarray
    duration_ms: np.ndarray
    route: np.ndarray
    environment: np.ndarray


def records_chunk(rng: np.random.Generator, chunk: Chunk) -> tuple[pa.Table, ServerSpans]:
    """The chunk's records (template columns still holding placeholders), sorted by start."""
    cat, n = CATALOG, chunk.rows

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
    duration = np.clip(duration, 0, min(longest, 120 * SECOND)).astype(np.int64)
    root_start = np.minimum(sample_times(rng, chunk.start, chunk.end, traces), chunk.end - 1 - duration)

    # Leaf spans wobble inside their slot so that siblings are not all alike.
    start_frac, end_frac = cat.start_frac[g], cat.end_frac[g]
    wobble = np.where(cat.is_leaf[g] & ~cat.is_point[g], 0.3 * (end_frac - start_frac), 0.0)
    start_frac = start_frac + wobble * rng.random(n)
    end_frac = end_frac - wobble * rng.random(n)
    start = root_start[trace] + np.floor(start_frac * duration[trace]).astype(np.int64)
    end = root_start[trace] + np.floor(end_frac * duration[trace]).astype(np.int64)
    created = end + rng.integers(800_000, 4_000_000, n)

    # Who: per-trace environment, pod, user and business values.
    environment = rng.choice(len(ENVIRONMENTS), size=traces, p=ENVIRONMENT_P)
    pod = rng.integers(0, INSTANCES_PER_SERVICE, traces)
    entity = rng.integers(100_000, 1_000_000, traces)
    user = 1 + np.floor(49_999 * rng.random(traces) ** 3).astype(np.int64)  # a few very active users
    small = rng.integers(1, 41, traces)
    cost = np.round(0.01 + np.exp(np.log(0.08) + 0.8 * rng.standard_normal(traces)), 2)
    trace_ids = np.frombuffer(rng.bytes(16 * traces), dtype=np.uint8).reshape(traces, 16)
    span_ids = np.frombuffer(rng.bytes(8 * n), dtype=np.uint8).reshape(n, 8)

    has_parent = cat.parent[g] >= 0
    parent_row = np.where(has_parent, first_row[trace] + cat.parent[g], 0)
    service = cat.service[g]
    resource = resource_index(service, environment[trace], (pod[trace] + service) % INSTANCES_PER_SERVICE)

    # A span's event time, for its `otel_events`; none where the chunk's last trace lost the event.
    event_position = cat.event_position[g]
    has_event = (event_position >= 0) & (event_position < sizes[trace])
    event_at = start[np.where(has_event, first_row[trace] + event_position, 0)]

    order = np.argsort(start, kind="stable")
    trace, g, start, end = trace[order], g[order], start[order], end[order]
    is_point = cat.is_point[g]
    day = np.full(n, chunk.start // DAY, dtype=np.int32)
    columns = {
        "start_timestamp": pa.array(start, TIMESTAMP),
        "end_timestamp": pa.array(end, TIMESTAMP),
        "duration": pa.array((end - start) / SECOND, mask=is_point),
        "trace_id": _hex_strings(trace_ids[trace]),
        "span_id": _hex_strings(span_ids[order]),
        "parent_span_id": _hex_strings(span_ids[parent_row[order]], has_parent[order]),
        "created_at": pa.array(created[order], TIMESTAMP),
        "event_timestamp": pa.array(event_at[order], TIMESTAMP, mask=~has_event[order]),
        "day": pa.array(day, pa.date32()),
        "fill_id": pa.array(entity[trace]),
        "fill_user": pa.array(user[trace]),
        "fill_n": pa.array(small[trace]),
        "fill_cost": pa.array(cost[trace]),
    }
    columns.update(lookup(cat.columns, g))
    columns.update(lookup(resource_columns(chunk.start // DAY, with_instances=True), resource[order]))
    table = pa.Table.from_pydict(columns)

    server = cat.route[g] >= 0
    spans = ServerSpans(
        start=start[server],
        duration_ms=(end - start)[server] / 1000.0,
        route=cat.route[g][server],
        environment=environment[trace][server],
    )
    return table, spans


def _fill(column: str) -> str:
    """SQL putting the trace's values in place of the placeholders of a template column."""
    return (
        f"replace(replace(replace(replace({column}, '$COST', CAST(fill_cost AS VARCHAR)), "
        f"'$USER', CAST(fill_user AS VARCHAR)), '$ID', CAST(fill_id AS VARCHAR)), '$N', CAST(fill_n AS VARCHAR))"
    )


_EXCEPTION_EVENT = (
    """'{"name":"exception","timestamp":"' || to_char(end_timestamp, '%Y-%m-%dT%H:%M:%S%.6fZ') || """
    """'","attributes":{"exception.type":"' || exception_type || """
    """'","exception.message":"' || """ + _fill("exception_message_j") + """ || """
    """'","exception.stacktrace":"' || """ + _fill("exception_stacktrace_j") + """ || """
    """'","exception.escaped":"False"}}'"""
)
#: The span event, as its own row has it: the same name, time and (filled) attributes.
_SPAN_EVENT = (
    """'{"name":"' || event_name_j || '","timestamp":"' || """
    """to_char(event_timestamp, '%Y-%m-%dT%H:%M:%S%.6fZ') || '","attributes":' || """
    + _fill("event_attributes_t")
    + """ || '}'"""
)
#: `otel_events` in time order: a span's event lies inside it, its exception is at its end.
_OTEL_EVENTS = (
    f"CASE WHEN event_timestamp IS NOT NULL AND is_exception THEN '[' || {_SPAN_EVENT} || ',' || {_EXCEPTION_EVENT} || ']' "
    f"WHEN event_timestamp IS NOT NULL THEN '[' || {_SPAN_EVENT} || ']' "
    f"WHEN is_exception THEN '[' || {_EXCEPTION_EVENT} || ']' END"
)

#: Every column of `records`, as SQL over a chunk; columns left out would silently be NULL.
RECORD_COLUMNS: dict[str, str] = {
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
    "attributes_json_schema": "NULL",
    "is_exception": "is_exception",
    "exception_type": "exception_type",
    "exception_message": _fill("exception_message_t"),
    "exception_stacktrace": _fill("exception_stacktrace_t"),
    "otel_status_code": "otel_status_code",
    "otel_status_message": _fill("otel_status_message_t"),
    "otel_events": _OTEL_EVENTS,
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


def select_sql(columns: Mapping[str, str], project_id: str) -> str:
    """DataFusion SQL turning a chunk (table `chunk`) into complete rows."""
    literal = "'" + project_id.replace("'", "''") + "'"
    values = ",\n  ".join(
        f'{expression.replace("$project_id", literal)} AS "{name}"' for name, expression in columns.items()
    )
    return f"SELECT\n  {values}\nFROM chunk"
