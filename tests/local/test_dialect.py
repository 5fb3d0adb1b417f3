"""Logfire's SQL, as its public docs write it, answered by the local server over HTTP.

Each case is a query taken from one of Logfire's pages (named in `page`; `$resolution` and other
dashboard variables rendered, as the docs say to do outside dashboards) or from the cases of
issue 9, run through `POST /v2/query` against a small data set built for it, and each asserts
its answer: values, column names or Arrow types, never only a 200.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
SQL_REFERENCE = "docs/reference/sql.md (Logfire SQL reference)"
DASHBOARD_QUERIES = "docs/how-to-guides/write-dashboard-queries.md (Writing SQL queries for dashboards)"
DASHBOARDS = "docs/guides/web-ui/dashboards.md (Dashboards)"
EXPLORE = "docs/guides/web-ui/explore.md (Explore)"
ALERTS = "docs/guides/web-ui/alerts.md (Alerts)"
SLOW_ENDPOINT = "docs/cookbook/debug-a-slow-endpoint.md (Cookbook: debug a slow endpoint)"
LLM_COST = "docs/cookbook/track-llm-cost.md (Cookbook: track LLM cost)"
DIALECT = "logfire-api.md, 'The SQL dialect' (DataFusion semantics; issue 9)"
FUNCTIONS_JSON = "datafusion-functions-json README (the functions Logfire's SQL reference links to)"


def _span(
    seconds: float,
    span_name: str,
    *,
    duration: float | None = 0.1,
    level: int = 9,
    service: str = "api",
    attributes: dict[str, Any] | None = None,
    **columns: Any,
) -> dict[str, Any]:
    start = T0 + timedelta(seconds=seconds)
    end = start + timedelta(seconds=duration or 0)
    return {
        "start_timestamp": start,
        "end_timestamp": end,
        "duration": duration,
        "span_name": span_name,
        "message": columns.pop("message", span_name),
        "level": level,
        "kind": "span" if duration is not None else "log",
        "service_name": service,
        "otel_resource_attributes": json.dumps({"service.name": service}),
        "attributes": json.dumps(attributes or {}),
        "trace_id": columns.pop("trace_id", f"{int(seconds):032x}"),
        "span_id": columns.pop("span_id", f"{int(seconds * 10):016x}"),
        **columns,
    }


RECORDS = [
    _span(
        0,
        "GET /checkout",
        duration=0.2,
        attributes={"http.route": "/checkout", "http.method": "GET"},
        tags=["shop"],
        span_id="a" * 16,
        trace_id="1" * 32,
    ),
    _span(
        1,
        "SELECT orders",
        duration=0.01,
        service="db",
        parent_span_id="a" * 16,
        trace_id="1" * 32,
        attributes={"db.statement": "SELECT * FROM orders", "nested": {"key": "v"}, "n": "3"},
    ),
    _span(60, "GET /checkout", duration=0.06, attributes={"http.route": "/checkout", "http.method": "GET"}),
    _span(
        120,
        "POST /members/{user_id}",
        duration=0.5,
        level=17,
        is_exception=True,
        exception_type="ValueError",
        exception_message="bad member",
        attributes={
            "http.route": "/members/{user_id}",
            "http.method": "POST",
            "http.response.status_code": 500,
        },
    ),
    _span(
        180,
        "beware: {thing}",
        duration=None,
        level=13,
        message="beware: bad",
        attributes={"thing": "bad", "flag": True},
        tags=["a tag"],
    ),
    _span(
        240,
        "chat gpt-4o",
        duration=1.5,
        service="agent",
        attributes={
            "gen_ai.request.model": "gpt-4o",
            "operation.cost": 0.25,
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 20,
        },
    ),
    _span(
        3600,
        "chat gpt-4o",
        duration=2.5,
        service="agent",
        attributes={
            "gen_ai.request.model": "gpt-4o",
            "operation.cost": 0.75,
            "gen_ai.usage.input_tokens": 300,
            "gen_ai.usage.output_tokens": 60,
        },
    ),
    _span(
        3660,
        "chat claude",
        duration=0.5,
        service="agent",
        attributes={
            "gen_ai.request.model": "claude",
            "operation.cost": 0.1,
            "gen_ai.usage.input_tokens": 50,
            "gen_ai.usage.output_tokens": 5,
        },
    ),
    _span(3720, "cache miss", duration=None, level=5, attributes={"items": [1, 2, 3]}),
]
NOW = datetime.now(timezone.utc).replace(microsecond=0)
METRICS = [
    {
        "recorded_timestamp": T0 + timedelta(minutes=1),
        "metric_name": "http.server.duration",
        "unit": "s",
        "metric_type": "exponential_histogram",
        "service_name": "api",
        "histogram_count": 4,
        "histogram_sum": 1.0,
        "histogram_min": 0.1,
        "histogram_max": 0.4,
        "exp_histogram_scale": 0,
        "exp_histogram_zero_count": 0,
        "exp_histogram_zero_threshold": 0.0,
        "exp_histogram_positive_bucket_counts": [1, 3],
        "exp_histogram_positive_bucket_counts_offset": -4,
        "exp_histogram_negative_bucket_counts": [],
        "exp_histogram_negative_bucket_counts_offset": 0,
        "attributes": json.dumps({"http.route": "/checkout"}),
        "attributes_json_schema": None,
    },
    {
        "recorded_timestamp": T0 + timedelta(minutes=6),
        "metric_name": "http.server.duration",
        "unit": "s",
        "metric_type": "exponential_histogram",
        "service_name": "api",
        "histogram_count": 2,
        "histogram_sum": 3.0,
        "histogram_min": 1.0,
        "histogram_max": 2.0,
        "exp_histogram_scale": 0,
        "exp_histogram_positive_bucket_counts": [2],
        "exp_histogram_positive_bucket_counts_offset": 0,
        "attributes": json.dumps({"http.route": "/checkout"}),
    },
    # A cumulative counter with two series; the `transmit` one restarts (a new start time) at 10:02:30.
    *(
        {
            "recorded_timestamp": T0 + timedelta(minutes=minute),
            "start_timestamp": T0 + timedelta(minutes=started),
            "metric_name": "system.network.io",
            "unit": "By",
            "metric_type": "sum",
            "aggregation_temporality": "cumulative",
            "is_monotonic": True,
            "service_name": "api",
            "scalar_value": reading,
            "attributes": json.dumps({"direction": direction}),
        }
        for minute, started, direction, reading in (
            (1, 0, "transmit", 100.0),
            (2, 0, "transmit", 160.0),
            (3, 2.5, "transmit", 40.0),
            (4, 2.5, "transmit", 100.0),
            (1, 0, "receive", 10.0),
            (4, 0, "receive", 40.0),
        )
    ),
    # A gauge, read three times.
    *(
        {
            "recorded_timestamp": T0 + timedelta(minutes=minute),
            "metric_name": "process.cpu.utilization",
            "unit": "1",
            "metric_type": "gauge",
            "service_name": "api",
            "scalar_value": reading,
            "attributes": "{}",
        }
        for minute, reading in ((1, 0.2), (2, 0.6), (3, 0.4))
    ),
    {
        "recorded_timestamp": NOW - timedelta(minutes=5),
        "metric_name": "system.cpu.time",
        "unit": "s",
        "metric_type": "sum",
        "service_name": "api",
        "scalar_value": 12.5,
        "attributes": "{}",
    },
]


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows with different keys as one table (a key missing from a row is NULL there)."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalEngine() as engine:
        engine.insert_arrow("records", _table(RECORDS))
        engine.insert_arrow("metrics", _table(METRICS))
        with run_local_server(engine) as running:
            yield running


#: The hour of `http.server.duration` histograms, aggregated: the guide's flat-column query and its
#: `metric_*` version both answer it.
HTTP_DURATION_HOUR = [
    {
        "x": "2026-11-27T10:00:00.000000Z",
        "total_count": 6,
        "total_sum": 4.0,
        "average": pytest.approx(4 / 6),
        "min": 0.1,
        "max": 2.0,
    }
]

#: The CTEs of the dashboard guide's "Unpacking raw histogram buckets" recipe, as written there
#: (its bucket bounds); tests/local/test_metric_functions.py extends them to the observations.
EXP_BUCKET_BOUNDS = """with indices as (
    select *, unnest(generate_series(1, array_length(exp_histogram_positive_bucket_counts, 1)::integer)) AS bucket_index
    from metrics
),
counts as (
    select *, exp_histogram_positive_bucket_counts[bucket_index] as bucket_count
    from indices
),
bounds as (
    select
        counts.*,
        greatest(
            histogram_min,
            power(2.0, (exp_histogram_positive_bucket_counts_offset+bucket_index-1)/power(2.0, exp_histogram_scale))
        ) as lower_bound,
        least(
            histogram_max,
            power(2.0, (exp_histogram_positive_bucket_counts_offset+bucket_index)/power(2.0, exp_histogram_scale))
        ) as upper_bound
    from counts
    where bucket_count > 0
)"""


@dataclass(frozen=True)
class Answer:
    fields: list[dict[str, Any]]
    rows: list[dict[str, Any]]

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def column(self, name: str) -> list[Any]:
        return [row[name] for row in self.rows]

    def type_of(self, name: str) -> Any:
        return next(f["data_type"] for f in self.fields if f["name"] == name)


def ask(server: LocalServer, sql: str) -> Answer:
    body = {"sql": sql, "min_timestamp": (T0 - timedelta(days=1)).isoformat(), "limit": 10_000}
    response = httpx.post(
        f"{server.url}/v2/query", json=body, headers={"Authorization": server.token}, timeout=30
    )
    assert response.status_code == 200, response.text
    document = response.json()
    return Answer(document["schema"]["fields"], document["data"])


@dataclass(frozen=True)
class Case:
    page: str
    sql: str
    check: Callable[[Answer], object]


def _all(*checks: bool) -> bool:
    return all(checks)


CASES = {
    # -- Logfire SQL reference -------------------------------------------------------------
    "parent-child-join": Case(
        SQL_REFERENCE,
        """SELECT
    parent_records.message AS parent_message,
    child_records.message  AS child_message
FROM records parent_records
JOIN records child_records
    ON  child_records.trace_id       = parent_records.trace_id
    AND child_records.parent_span_id = parent_records.span_id""",
        lambda a: a.rows == [{"parent_message": "GET /checkout", "child_message": "SELECT orders"}],
    ),
    "attribute-text-equals": Case(
        SQL_REFERENCE,
        "SELECT message FROM records WHERE attributes->>'thing' = 'bad'",
        lambda a: a.column("message") == ["beware: bad"],
    ),
    "attribute-arrow-equals": Case(
        SQL_REFERENCE,  # "You can also use `->` which is mostly interchangeable"
        "SELECT message FROM records WHERE attributes->'thing' = 'bad'",
        lambda a: a.column("message") == ["beware: bad"],
    ),
    "nested-chain": Case(
        SQL_REFERENCE,
        "SELECT attributes->>'nested'->>'key' AS v FROM records WHERE attributes ? 'nested'",
        lambda a: a.column("v") == ["v"],
    ),
    "level-equals-name": Case(
        SQL_REFERENCE,
        "SELECT message, level FROM records WHERE level = 'warn'",
        lambda a: a.rows == [{"message": "beware: bad", "level": 13}],
    ),
    "level-above-info": Case(
        SQL_REFERENCE,
        "SELECT message FROM records WHERE level > 'info' ORDER BY start_timestamp",
        lambda a: a.column("message") == ["POST /members/{user_id}", "beware: bad"],
    ),
    "level-num": Case(
        SQL_REFERENCE,
        "SELECT level_num('warn') AS n",
        lambda a: a.rows == [{"n": 13}] and a.type_of("n") == "Int32",
    ),
    "level-name": Case(
        SQL_REFERENCE,
        "SELECT level_name(level) AS name, count(*) AS n FROM records GROUP BY 1 ORDER BY 1",
        lambda a: (
            a.rows
            == [
                {"name": "debug", "n": 1},
                {"name": "error", "n": 1},
                {"name": "info", "n": 6},
                {"name": "warn", "n": 1},
            ]
        ),
    ),
    "rendered-time-bucket": Case(
        SQL_REFERENCE,
        "SELECT time_bucket('1 minute', start_timestamp) AS x, count(*) AS n FROM records "
        "GROUP BY x ORDER BY x LIMIT 2",
        lambda a: (
            a.rows
            == [{"x": "2026-11-27T10:00:00.000000Z", "n": 2}, {"x": "2026-11-27T10:01:00.000000Z", "n": 1}]
        ),
    ),
    "exceptions-that-are-errors": Case(
        SQL_REFERENCE,
        "SELECT exception_type, exception_message FROM records WHERE is_exception AND level >= 'error'",
        lambda a: a.rows == [{"exception_type": "ValueError", "exception_message": "bad member"}],
    ),
    "resource-attribute": Case(
        SQL_REFERENCE,
        "SELECT DISTINCT otel_resource_attributes->>'service.name' AS s FROM records ORDER BY s",
        lambda a: a.column("s") == ["agent", "api", "db"],
    ),
    "status-code-via-text": Case(
        SQL_REFERENCE,
        "SELECT (attributes::text)->>'http.response.status_code' AS code FROM records WHERE is_exception",
        lambda a: a.column("code") == ["500"],
    ),
    "no-pending-spans-in-records": Case(
        SQL_REFERENCE,
        "SELECT count(*) AS n FROM records WHERE kind = 'pending_span'",
        lambda a: a.rows == [{"n": 0}],
    ),
    "records-all": Case(
        SQL_REFERENCE,
        "SELECT count(*) AS n FROM records_all",
        lambda a: a.rows == [{"n": len(RECORDS)}],
    ),
    # -- Writing SQL queries for dashboards ------------------------------------------------
    "count-by-span-name": Case(
        DASHBOARD_QUERIES,
        "SELECT\n    COUNT() AS count,\n    span_name\nFROM records\nGROUP BY span_name\nORDER BY count DESC",
        lambda a: (
            len(a.rows) == 7
            and {(r["count"], r["span_name"]) for r in a.rows[:2]}
            == {(2, "GET /checkout"), (2, "chat gpt-4o")}
            and all(r["count"] == 1 for r in a.rows[2:])
        ),
    ),
    "count-by-exception-type": Case(
        DASHBOARD_QUERIES,
        "SELECT COUNT() AS count, exception_type FROM records WHERE is_exception "
        "GROUP BY exception_type ORDER BY count DESC",
        lambda a: a.rows == [{"count": 1, "exception_type": "ValueError"}],
    ),
    "count-by-trace": Case(
        DASHBOARD_QUERIES,
        "SELECT COUNT() AS count, trace_id FROM records GROUP BY trace_id ORDER BY count DESC LIMIT 1",
        lambda a: a.rows == [{"count": 2, "trace_id": "1" * 32}],
    ),
    "count-by-service-and-span": Case(
        DASHBOARD_QUERIES,
        "SELECT COUNT() AS count, service_name, span_name FROM records "
        "GROUP BY service_name, span_name ORDER BY count DESC, span_name LIMIT 2",
        lambda a: (
            a.rows
            == [
                {"count": 2, "service_name": "api", "span_name": "GET /checkout"},
                {"count": 2, "service_name": "agent", "span_name": "chat gpt-4o"},
            ]
        ),
    ),
    "top-ten-reordered": Case(
        DASHBOARD_QUERIES,
        """SELECT * FROM (
    SELECT
        COUNT() AS count,
        service_name || ' - ' || span_name AS service_and_span
    FROM records
    GROUP BY service_and_span
    ORDER BY count DESC
    LIMIT 10
) ORDER BY count ASC""",
        lambda a: (
            len(a.rows) == 7
            and {(r["count"], r["service_and_span"]) for r in a.rows[-2:]}
            == {(2, "api - GET /checkout"), (2, "agent - chat gpt-4o")}
        ),
    ),
    "total-duration": Case(
        DASHBOARD_QUERIES,
        "SELECT SUM(duration) AS total_duration_seconds, span_name FROM records "
        "WHERE duration IS NOT NULL -- Ignore logs, which have no duration\n"
        "GROUP BY span_name ORDER BY total_duration_seconds DESC",
        lambda a: a.rows[0] == {"total_duration_seconds": 4.0, "span_name": "chat gpt-4o"},
    ),
    "p95-within-group": Case(
        DASHBOARD_QUERIES,
        "SELECT approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) as P95, span_name "
        "FROM records WHERE duration IS NOT NULL GROUP BY span_name ORDER BY P95 DESC",
        lambda a: a.names == ["p95", "span_name"] and a.rows[0]["span_name"] == "chat gpt-4o",
    ),
    "count-per-bucket": Case(
        DASHBOARD_QUERIES,
        "SELECT time_bucket('1 hour', start_timestamp) AS x, count() as count FROM records GROUP BY x ORDER BY x",
        lambda a: (
            a.rows
            == [
                {"x": "2026-11-27T10:00:00.000000Z", "count": 6},
                {"x": "2026-11-27T11:00:00.000000Z", "count": 3},
            ]
        ),
    ),
    "percentiles-per-bucket": Case(
        DASHBOARD_QUERIES,
        """SELECT
    time_bucket('1 hour', start_timestamp) AS x,
    approx_percentile_cont(0.80) WITHIN GROUP (ORDER BY duration) AS p80,
    approx_percentile_cont(0.90) WITHIN GROUP (ORDER BY duration) AS p90,
    approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p95
FROM records
GROUP BY x ORDER BY x""",
        lambda a: (
            a.names == ["x", "p80", "p90", "p95"] and all(r["p80"] <= r["p90"] <= r["p95"] for r in a.rows)
        ),
    ),
    "log-count-by-level": Case(
        DASHBOARD_QUERIES,
        "SELECT time_bucket('1 hour', start_timestamp) AS x, log(count()) as log_count, "
        "level_name(level) as level FROM records GROUP BY x, level ORDER BY x, level",
        lambda a: (
            {"x": "2026-11-27T10:00:00.000000Z", "log_count": pytest.approx(0.60206), "level": "info"}
            in a.rows
        ),
    ),
    "service-and-level": Case(
        DASHBOARD_QUERIES,
        "SELECT time_bucket('1 hour', start_timestamp) AS x, log(count()) as log_count, "
        "service_name || ' - ' || level_name(level) AS service_and_level FROM records "
        "GROUP BY x, service_and_level ORDER BY x, service_and_level",
        lambda a: "api - error" in a.column("service_and_level"),
    ),
    "top-five-per-bucket": Case(
        DASHBOARD_QUERIES,
        """WITH original AS (
    SELECT
        time_bucket('1 hour', start_timestamp) AS x,
        count() as count,
        span_name
    FROM records
    GROUP BY x, span_name
),
ranked AS (
    SELECT
        x,
        count,
        span_name,
        ROW_NUMBER() OVER (PARTITION BY x ORDER BY count DESC, span_name) AS row_num
    FROM original
)
SELECT
    x,
    count,
    span_name
FROM ranked
WHERE row_num <= 5
ORDER BY x, count DESC, span_name""",
        lambda a: (
            a.rows[0] == {"x": "2026-11-27T10:00:00.000000Z", "count": 2, "span_name": "GET /checkout"}
            and len(a.rows) == 8
        ),
    ),
    "histogram-aggregates": Case(
        DASHBOARD_QUERIES,
        """SELECT
    time_bucket('1 hour', recorded_timestamp) AS x,
    sum(histogram_count) as total_count,
    sum(histogram_sum) as total_sum,
    sum(histogram_sum) / sum(histogram_count) as average,
    min(histogram_min) as min,
    max(histogram_max) as max
FROM metrics
WHERE metric_name = 'http.server.duration'
GROUP BY x""",
        lambda a: a.rows == HTTP_DURATION_HOUR,
    ),
    "exponential-histogram-buckets": Case(
        DASHBOARD_QUERIES,
        EXP_BUCKET_BOUNDS
        + """
select bucket_index, bucket_count, lower_bound, upper_bound from bounds order by recorded_timestamp, bucket_index""",
        lambda a: (
            a.rows
            == [
                {"bucket_index": 1, "bucket_count": 1, "lower_bound": 0.1, "upper_bound": 0.125},
                {"bucket_index": 2, "bucket_count": 3, "lower_bound": 0.125, "upper_bound": 0.25},
                {"bucket_index": 1, "bucket_count": 2, "lower_bound": 1.0, "upper_bound": 2.0},
            ]
        ),
    ),
    # -- Dashboards and Explore --------------------------------------------------------------
    "dashboard-count-per-bucket": Case(
        DASHBOARDS,
        "SELECT\n  time_bucket('1 hour', start_timestamp) AS x,\n  count(1) as count\nFROM records\nGROUP BY x;",
        lambda a: sorted(a.column("count")) == [3, 6],
    ),
    "dashboard-top-ten-span-names": Case(
        DASHBOARDS,
        "SELECT\n    COUNT() AS count,\n    span_name\nFROM records\nGROUP BY span_name\nORDER BY count DESC\nLIMIT 10",
        lambda a: (
            len(a.rows) == 7
            and {(r["count"], r["span_name"]) for r in a.rows[:2]}
            == {(2, "GET /checkout"), (2, "chat gpt-4o")}
        ),
    ),
    "count-per-bucket-and-span": Case(
        DASHBOARD_QUERIES,
        "SELECT\n    time_bucket('1 hour', start_timestamp) AS x,\n    count() as count,\n    span_name\n"
        "FROM records\nGROUP BY x, span_name\nORDER BY count DESC\nLIMIT 200",
        lambda a: (
            a.names == ["x", "count", "span_name"]
            and len(a.rows) == 8
            and a.rows[0] == {"x": "2026-11-27T10:00:00.000000Z", "count": 2, "span_name": "GET /checkout"}
        ),
    ),
    "dashboard-variable-rendered": Case(
        DASHBOARDS,
        "SELECT count() FROM records WHERE service_name = 'api'",
        lambda a: a.rows == [{"count()": 5}],
    ),
    "explore-exceptions": Case(
        EXPLORE,
        "SELECT\n  message,\n  start_timestamp,\n  duration * 1000 AS duration_ms,\n  attributes\n"
        "FROM records\nWHERE is_exception",
        lambda a: (
            a.rows[0]["duration_ms"] == 500.0 and json.loads(a.rows[0]["attributes"])["http.method"] == "POST"
        ),
    ),
    "explore-recent-metrics": Case(
        EXPLORE,
        "SELECT *\nFROM metrics\nWHERE metric_name = 'system.cpu.time'\n"
        "  AND recorded_timestamp > now() - interval '1 hour'",
        lambda a: a.column("scalar_value") == [12.5] and len(a.names) == 41,
    ),
    # -- Alerts and the cookbook -------------------------------------------------------------
    "alert-on-route": Case(
        ALERTS,
        "SELECT trace_id, exception_type, exception_message FROM records  -- (1)!\nWHERE\n    is_exception and\n"
        "    service_name = 'api' and\n    attributes->>'http.route' = '/members/{user_id}'  -- (2)!",
        lambda a: a.column("exception_type") == ["ValueError"],
    ),
    "slow-endpoint-filter": Case(
        SLOW_ENDPOINT,
        "SELECT duration FROM records WHERE span_name = 'GET /checkout' AND duration > 0.05 ORDER BY duration",
        lambda a: a.column("duration") == [0.06, 0.2],
    ),
    "slow-endpoint-percentiles": Case(
        SLOW_ENDPOINT,
        """SELECT
  span_name,
  count(*) AS requests,
  approx_percentile_cont(duration, 0.5) * 1000 AS p50_ms,
  approx_percentile_cont(duration, 0.95) * 1000 AS p95_ms
FROM records
WHERE attributes ? 'http.route'
GROUP BY span_name
ORDER BY p95_ms DESC""",
        lambda a: (
            [(r["span_name"], r["requests"]) for r in a.rows]
            == [("POST /members/{user_id}", 1), ("GET /checkout", 2)]
        ),
    ),
    "slow-queries": Case(
        SLOW_ENDPOINT,
        """SELECT
  attributes->>'db.statement' AS query,
  count(*) AS runs,
  approx_percentile_cont(duration, 0.95) * 1000 AS p95_ms
FROM records
WHERE attributes ? 'db.statement'
GROUP BY query
ORDER BY p95_ms DESC""",
        lambda a: a.rows == [{"query": "SELECT * FROM orders", "runs": 1, "p95_ms": 10.0}],
    ),
    "llm-cost-per-day": Case(
        # As printed, with `GROUP BY 1, 2`: `GROUP BY day` names the `day` column of `records` in
        # DataFusion, not the alias (see the dialect page, "differences").
        LLM_COST,
        """SELECT
    date_trunc('day', start_timestamp) AS day,
    attributes->>'gen_ai.request.model' AS model,
    SUM((attributes->'operation.cost')::numeric) AS cost_usd,
    SUM((attributes->'gen_ai.usage.input_tokens')::numeric) AS input_tokens,
    SUM((attributes->'gen_ai.usage.output_tokens')::numeric) AS output_tokens
FROM records
WHERE attributes ? 'gen_ai.request.model'
GROUP BY 1, 2
ORDER BY day DESC, cost_usd DESC""",
        lambda a: (
            a.rows
            == [
                {
                    "day": "2026-11-27T00:00:00.000000Z",
                    "model": "gpt-4o",
                    "cost_usd": 1.0,
                    "input_tokens": 400.0,
                    "output_tokens": 80.0,
                },
                {
                    "day": "2026-11-27T00:00:00.000000Z",
                    "model": "claude",
                    "cost_usd": 0.1,
                    "input_tokens": 50.0,
                    "output_tokens": 5.0,
                },
            ]
        ),
    ),
    "llm-cost-per-bucket": Case(
        LLM_COST,
        "SELECT time_bucket('1 hour', start_timestamp) AS x, attributes->>'gen_ai.request.model' AS model, "
        "SUM((attributes->'operation.cost')::numeric) AS cost_usd FROM records "
        "WHERE attributes ? 'gen_ai.request.model' GROUP BY x, model ORDER BY x, model",
        lambda a: (
            [(r["model"], r["cost_usd"]) for r in a.rows]
            == [("gpt-4o", 0.25), ("claude", 0.1), ("gpt-4o", 0.75)]
        ),
    ),
    "llm-cost-alert": Case(
        LLM_COST,
        "SELECT SUM((attributes->'operation.cost')::numeric) AS cost_usd FROM records "
        "WHERE attributes ? 'gen_ai.request.model' HAVING SUM((attributes->'operation.cost')::numeric) > 1",
        lambda a: a.rows == [{"cost_usd": pytest.approx(1.1)}],
    ),
    # -- The failing and differing cases of issue 9 ----------------------------------------
    "key-exists": Case(
        DIALECT,
        "SELECT count(*) AS n FROM records WHERE attributes ? 'http.route'",
        lambda a: a.rows == [{"n": 3}],
    ),
    "approx-percentile-both-forms": Case(
        DIALECT,
        "SELECT approx_percentile_cont(duration, 0.5) AS a, "
        "approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY duration) AS b FROM records",
        lambda a: a.rows[0]["a"] == a.rows[0]["b"] and 0.1 < a.rows[0]["a"] < 1.0,
    ),
    "level-ge-warn": Case(
        DIALECT, "SELECT count(*) AS n FROM records WHERE level >= 'warn'", lambda a: a.rows == [{"n": 2}]
    ),
    "json-get-str": Case(
        DIALECT,
        "SELECT json_get_str(attributes, 'http.method') AS m FROM records WHERE json_contains(attributes, 'http.method') "
        "ORDER BY start_timestamp",
        lambda a: a.column("m") == ["GET", "GET", "POST"],
    ),
    "date-bin": Case(
        DIALECT,
        "SELECT date_bin(INTERVAL '1 hour', start_timestamp) AS h, count(*) AS n FROM records GROUP BY 1 ORDER BY 1",
        lambda a: a.column("n") == [6, 3],
    ),
    "arrow-cast": Case(
        DIALECT,
        "SELECT arrow_cast(level, 'Int64') AS l, arrow_typeof(arrow_cast(level, 'Int64')) AS t FROM records LIMIT 1",
        lambda a: a.type_of("l") == "Int64" and a.rows[0]["t"] == "Int64",
    ),
    "regexp-like": Case(
        DIALECT,
        "SELECT message FROM records WHERE regexp_like(message, '^beware')",
        lambda a: a.column("message") == ["beware: bad"],
    ),
    "arrow-compared-with-text": Case(
        DIALECT,
        "SELECT count(*) AS n FROM records WHERE attributes->'http.method' = 'GET'",
        lambda a: a.rows == [{"n": 2}],
    ),
    "arrow-is-not-null": Case(
        DIALECT,
        "SELECT count(*) AS n FROM records WHERE attributes->'http.route' IS NOT NULL",
        lambda a: a.rows == [{"n": 3}],
    ),
    "exp-histogram-columns": Case(
        DIALECT,
        "SELECT exp_histogram_scale, exp_histogram_positive_bucket_counts, attributes_json_schema FROM metrics "
        "WHERE metric_type = 'exponential_histogram' ORDER BY recorded_timestamp",
        lambda a: (
            a.rows[0]
            == {
                "exp_histogram_scale": 0,
                "exp_histogram_positive_bucket_counts": [1, 3],
                "attributes_json_schema": None,
            }
        ),
    ),
    "attributes-json-schema-column": Case(
        DIALECT,
        "SELECT count(attributes_json_schema) AS n FROM records",
        lambda a: a.rows == [{"n": 0}] and a.type_of("n") == "Int64",
    ),
    "unnamed-count-star": Case(
        DIALECT,
        "SELECT count(*) FROM records",
        lambda a: a.names == ["count(*)"] and a.rows == [{"count(*)": 9}],
    ),
    "integer-division": Case(
        DIALECT, "SELECT 7/2 AS q", lambda a: a.rows == [{"q": 3}] and a.type_of("q") == "Int64"
    ),
    "desc-puts-nulls-first": Case(
        DIALECT,
        "SELECT duration FROM records ORDER BY duration DESC LIMIT 3",
        lambda a: a.column("duration") == [None, None, 2.5],
    ),
    "numeric-is-decimal-38": Case(
        DIALECT,
        "SELECT 1.2345::numeric AS n",
        lambda a: a.type_of("n") == {"Decimal128": [38, 10]} and a.rows == [{"n": 1.2345}],
    ),
    "timestamp-difference-is-a-duration": Case(
        DIALECT,
        "SELECT end_timestamp - start_timestamp AS d FROM records WHERE span_name = 'GET /checkout' "
        "ORDER BY start_timestamp LIMIT 1",
        lambda a: a.type_of("d") == {"Duration": "Microsecond"} and a.rows == [{"d": "PT0.2S"}],
    ),
    "untagged-is-empty-list": Case(
        DIALECT,
        "SELECT tags FROM records WHERE span_name = 'cache miss'",
        lambda a: a.rows == [{"tags": []}],
    ),
    "unnamed-operator-column": Case(
        DIALECT,
        "SELECT attributes->>'http.route', count(*) FROM records WHERE attributes ? 'http.route' GROUP BY 1 ORDER BY 1",
        lambda a: (
            a.names == ["attributes ->> 'http.route'", "count(*)"]
            and a.rows[0] == {"attributes ->> 'http.route'": "/checkout", "count(*)": 2}
        ),
    ),
    "cast-of-text": Case(
        DIALECT,
        "SELECT (attributes->>'n')::int AS n FROM records WHERE attributes ? 'n'",
        lambda a: a.rows == [{"n": 3}] and a.type_of("n") == "Int32",
    ),
    # -- metrics: `value` and the metric_* functions --------------------------------------------
    "metric-quantile": Case(
        EXPLORE,  # $resolution rendered as the guide's own example does: '5 minutes'
        """SELECT
    time_bucket('5 minutes', recorded_timestamp) AS x,
    metric_quantile(0.95, value) AS p95
FROM metrics
WHERE metric_name = 'http.server.duration'
GROUP BY x
ORDER BY x""",
        # One point per bucket: the 0.95 quantile of the observations the guide's unpacking recipe
        # spreads over its buckets ([0.1, 0.125]: 0.1125; [0.125, 0.25]: 0.125, 0.1875, 0.25 /
        # [1, 2]: 1, 2), interpolated between neighbours (test_metric_functions checks the recipe).
        lambda a: (
            a.column("x") == ["2026-11-27T10:00:00.000000Z", "2026-11-27T10:05:00.000000Z"]
            and a.column("p95") == [pytest.approx(0.1875 + 0.85 * 0.0625), pytest.approx(1.95)]
            and a.type_of("p95") == "Float64"
        ),
    ),
    "metric-quantile-of-a-gauge": Case(
        DASHBOARD_QUERIES,  # "The same query works unchanged for a gauge like process.cpu.utilization"
        """SELECT
    time_bucket('1 hour', recorded_timestamp) AS x,
    metric_quantile(0.95, value) AS p95
FROM metrics
WHERE metric_name = 'process.cpu.utilization'
GROUP BY x
ORDER BY x""",
        lambda a: a.rows == [{"x": "2026-11-27T10:00:00.000000Z", "p95": pytest.approx(0.58)}],
    ),
    "metric-summary-statistics": Case(
        DASHBOARD_QUERIES,  # '<fill in>' filled in, $resolution rendered
        """SELECT
    time_bucket('1 hour', recorded_timestamp) AS x,
    SUM(metric_count(value)) AS total_count,
    SUM(metric_sum(value)) AS total_sum,
    SUM(metric_sum(value)) / NULLIF(SUM(metric_count(value)), 0) AS average,
    MIN(metric_min(value)) AS min,
    MAX(metric_max(value)) AS max
FROM metrics
WHERE metric_name = 'http.server.duration'
GROUP BY x""",
        # the same answer as the guide's flat-column version (case histogram-aggregates)
        lambda a: a.rows == HTTP_DURATION_HOUR,
    ),
    "metric-rate": Case(
        DASHBOARD_QUERIES,
        """SELECT
    time_bucket('1 hour', recorded_timestamp) AS x,
    metric_rate(value, recorded_timestamp) AS bytes_per_second
FROM metrics
WHERE metric_name = 'system.network.io'
GROUP BY x
ORDER BY x""",
        # transmit rises 60, restarts at 40, rises 60: 160 bytes in 180 s; receive 30 in 180 s
        lambda a: (
            a.rows == [{"x": "2026-11-27T10:00:00.000000Z", "bytes_per_second": pytest.approx(190 / 180)}]
        ),
    ),
    "metric-increase": Case(
        DASHBOARD_QUERIES,
        "SELECT attributes->>'direction' AS direction, metric_increase(value, recorded_timestamp) AS bytes "
        "FROM metrics WHERE metric_name = 'system.network.io' GROUP BY 1 ORDER BY 1",
        lambda a: (
            a.rows == [{"direction": "receive", "bytes": 30.0}, {"direction": "transmit", "bytes": 160.0}]
        ),
    ),
    "metric-per-row-functions": Case(
        DASHBOARD_QUERIES,  # the per-row functions of the guide's table, on a histogram and a gauge
        "SELECT metric_name, metric_avg(value) AS avg, metric_count(value) AS n, metric_min(value) AS lo, "
        "metric_max(value) AS hi FROM metrics WHERE metric_name IN ('http.server.duration', "
        "'process.cpu.utilization') ORDER BY recorded_timestamp, metric_name LIMIT 2",
        lambda a: (
            a.rows
            == [
                {"metric_name": "http.server.duration", "avg": 0.25, "n": 4, "lo": 0.1, "hi": 0.4},
                {"metric_name": "process.cpu.utilization", "avg": 0.2, "n": 1, "lo": 0.2, "hi": 0.2},
            ]
            and a.type_of("n") == "Int64"
        ),
    ),
    "metric-merge": Case(
        DASHBOARD_QUERIES,  # "folds the group's data points into one `value` struct"
        "SELECT metric_count(merged) AS n, metric_sum(merged) AS total, metric_avg(merged) AS mean FROM ("
        "SELECT metric_merge(value) AS merged FROM metrics WHERE metric_name = 'http.server.duration')",
        lambda a: a.rows == [{"n": 6, "total": 4.0, "mean": pytest.approx(4 / 6)}],
    ),
    "metric-value-column": Case(
        EXPLORE,  # "the easiest way to work with metric values is the `value` column"
        "SELECT value FROM metrics WHERE metric_name = 'process.cpu.utilization' ORDER BY recorded_timestamp LIMIT 1",
        lambda a: (
            a.names == ["value"]
            and a.rows[0]["value"]["metric_type"] == "gauge"
            and a.rows[0]["value"]["scalar_value"] == 0.2
        ),
    ),
    # -- the rest of the JSON functions ------------------------------------------------------
    "json-typed-getters": Case(
        FUNCTIONS_JSON,
        "SELECT json_get_int(attributes, 'gen_ai.usage.input_tokens') AS i, "
        "json_get_float(attributes, 'operation.cost') AS f, json_get_bool(attributes, 'flag') AS b "
        "FROM records WHERE attributes ? 'gen_ai.request.model' OR attributes ? 'flag' ORDER BY start_timestamp",
        lambda a: (
            a.rows[0] == {"i": None, "f": None, "b": True}
            and a.rows[1] == {"i": 100, "f": 0.25, "b": None}
            and (a.type_of("i"), a.type_of("f"), a.type_of("b")) == ("Int64", "Float64", "Boolean")
        ),
    ),
    "json-length-keys-and-paths": Case(
        FUNCTIONS_JSON,
        "SELECT json_length(attributes, 'items') AS n, json_get_int(attributes, 'items', 1) AS second, "
        "json_get_json(attributes, 'items') AS raw, json_object_keys(attributes) AS keys "
        "FROM records WHERE attributes ? 'items'",
        # json_get_json is the array as the document writes it (json.dumps: with spaces)
        lambda a: a.rows == [{"n": 3, "second": 2, "raw": "[1, 2, 3]", "keys": ["items"]}],
    ),
    "information-schema": Case(
        DIALECT,  # DataFusion's information_schema, listing the session's (windowed) tables
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'records' "
        "AND column_name IN ('level', 'tags') ORDER BY column_name",
        lambda a: (
            a.rows[0] == {"column_name": "level", "data_type": "Int32"}
            and a.rows[1]["column_name"] == "tags"
            and a.rows[1]["data_type"].startswith("List(")
            and len(a.rows) == 2
        ),
    ),
    "json-as-text-of-an-object": Case(
        FUNCTIONS_JSON,  # json_as_text "used for the `->>` operator": an object is its original text
        "SELECT attributes->>'nested' AS o, json_as_text(attributes, 'nested') AS f FROM records "
        "WHERE attributes ? 'nested'",
        lambda a: a.rows == [{"o": '{"key": "v"}', "f": '{"key": "v"}'}],
    ),
    "json-as-text-of-an-array": Case(
        FUNCTIONS_JSON,
        "SELECT attributes->>'items' AS items FROM records WHERE attributes ? 'items'",
        lambda a: a.rows == [{"items": "[1, 2, 3]"}],
    ),
    "json-as-text-of-a-number": Case(
        FUNCTIONS_JSON,
        "SELECT json_as_text(attributes, 'operation.cost') AS t FROM records "
        "WHERE attributes->>'gen_ai.request.model' = 'claude'",
        lambda a: a.rows == [{"t": "0.1"}],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_logfire_documented_query(server: LocalServer, name: str) -> None:
    case = CASES[name]
    answer = ask(server, case.sql)
    assert case.check(answer), f"{name} (from {case.page}):\n{case.sql}\n-> {answer}"


def test_there_are_at_least_forty_documented_queries() -> None:
    assert len(CASES) >= 40
    assert all(case.page for case in CASES.values())


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT count(*) FROM records WHERE level > 'loud'", "Invalid level name 'loud'"),
        ("SELECT * FROM '/etc/passwd'", "is not a table"),
        ("COPY records TO '/tmp/x.csv'", "got COPY"),
    ],
)
def test_refusals_say_why(server: LocalServer, sql: str, message: str) -> None:
    body = {"sql": sql, "min_timestamp": T0.isoformat()}
    response = httpx.post(f"{server.url}/v2/query", json=body, headers={"Authorization": server.token})
    assert response.status_code == 400 and message in response.json()["detail"]


@pytest.mark.parametrize("name", list(CASES))
def test_documented_query_restricted_to_its_window(server: LocalServer, name: str) -> None:
    """The query operator's exact-window prefix (`core.window_sql`) keeps Logfire's SQL working."""
    from airflow_provider_logfire.core.window_sql import restrict_to_window
    from airflow_provider_logfire.core.windows import TimeWindow

    case = CASES[name]
    sql = restrict_to_window(case.sql, TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=365)))
    answer = ask(server, sql)
    assert case.check(answer), f"{name} (from {case.page}):\n{sql}\n-> {answer}"


# -- span events: ingested over OTLP, then queried as Logfire's SQL reference describes ------------


def _span_event_request() -> bytes:
    """One span with two events and two exceptions, as an OpenTelemetry SDK sends them."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    start_ns = int(T0.timestamp()) * 10**9
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name", value=AnyValue(string_value="shop"))
    span = resource_spans.scope_spans.add().spans.add(
        trace_id=bytes.fromhex("2" * 32),
        span_id=bytes.fromhex("b" * 16),
        name="checkout",
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + 2 * 10**9,
    )
    for offset_ms, name, attributes in (
        (100, "cart loaded", {"items": AnyValue(int_value=3)}),
        (500, "exception", {"exception.type": AnyValue(string_value="KeyError")}),
        (900, "payment authorised", {"provider": AnyValue(string_value="acme")}),
        (1500, "exception", {"exception.type": AnyValue(string_value="TimeoutError")}),
    ):
        event = span.events.add(name=name, time_unix_nano=start_ns + offset_ms * 10**6)
        event.attributes.extend(KeyValue(key=k, value=v) for k, v in attributes.items())
    return request.SerializeToString()


@pytest.fixture(scope="module")
def event_server() -> Iterator[LocalServer]:
    with LocalEngine() as engine, run_local_server(engine) as running:
        response = httpx.post(
            f"{running.url}/v1/traces",
            content=_span_event_request(),
            headers={"Authorization": running.token, "Content-Type": "application/x-protobuf"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        yield running


SPAN_EVENT_CASES = {
    # "Span events are copied into new rows of `records` with the `kind` set to `span_event`
    # ..., unless the event name is `exception`."
    "span-event-rows": Case(
        SQL_REFERENCE,
        "SELECT span_name, message, kind, duration, start_timestamp FROM records WHERE kind = 'span_event' "
        "ORDER BY start_timestamp",
        lambda a: (
            a.rows
            == [
                {
                    "span_name": "cart loaded",
                    "message": "cart loaded",
                    "kind": "span_event",
                    "duration": None,
                    "start_timestamp": "2026-11-27T10:00:00.100000Z",
                },
                {
                    "span_name": "payment authorised",
                    "message": "payment authorised",
                    "kind": "span_event",
                    "duration": None,
                    "start_timestamp": "2026-11-27T10:00:00.900000Z",
                },
            ]
        ),
    ),
    "span-event-under-its-span": Case(
        SQL_REFERENCE,  # the reference's parent/child JOIN, with the span events as children
        """SELECT
    parent_records.message AS parent_message,
    child_records.message  AS child_message
FROM records parent_records
JOIN records child_records
    ON  child_records.trace_id       = parent_records.trace_id
    AND child_records.parent_span_id = parent_records.span_id
ORDER BY child_records.start_timestamp""",
        lambda a: (
            a.rows
            == [
                {"parent_message": "checkout", "child_message": "cart loaded"},
                {"parent_message": "checkout", "child_message": "payment authorised"},
            ]
        ),
    ),
    "span-event-attributes": Case(
        SQL_REFERENCE,
        "SELECT attributes->>'provider' AS provider FROM records "
        "WHERE kind = 'span_event' AND attributes ? 'provider'",
        lambda a: a.rows == [{"provider": "acme"}],
    ),
    "exception-events-are-not-rows": Case(
        SQL_REFERENCE,  # `is_exception`: "derived from attributes of the first such event"
        "SELECT kind, is_exception, exception_type, json_length(otel_events) AS events FROM records "
        "WHERE kind <> 'span_event' OR span_name = 'exception'",
        lambda a: (
            a.rows == [{"kind": "span", "is_exception": True, "exception_type": "KeyError", "events": 4}]
        ),
    ),
    "span-events-stay-in-otel-events": Case(
        SQL_REFERENCE,  # "All span events also currently remain attached to the original span"
        "SELECT otel_events->0->>'name' AS first, otel_events->2->>'name' AS third FROM records "
        "WHERE kind = 'span'",
        lambda a: a.rows == [{"first": "cart loaded", "third": "payment authorised"}],
    ),
    "kinds-of-records": Case(
        SQL_REFERENCE,
        "SELECT kind, count(*) AS n FROM records GROUP BY kind ORDER BY kind",
        lambda a: a.rows == [{"kind": "span", "n": 1}, {"kind": "span_event", "n": 2}],
    ),
}


@pytest.mark.parametrize("name", list(SPAN_EVENT_CASES))
def test_span_events_as_logfire_documents_them(event_server: LocalServer, name: str) -> None:
    case = SPAN_EVENT_CASES[name]
    answer = ask(event_server, case.sql)
    assert case.check(answer), f"{name} (from {case.page}):\n{case.sql}\n-> {answer}"


def test_group_by_a_name_means_the_input_column_before_the_alias(server: LocalServer) -> None:
    """`GROUP BY day` next to `date_trunc(...) AS day` (the LLM-cost cookbook's shape): DataFusion,
    like Postgres, reads a GROUP BY name as an input column first, and `records` has a `day`
    column; so the cookbook groups by position (`GROUP BY 1, 2`), as case `llm-cost-per-day` does."""
    page = LLM_COST  # the cookbook query, grouped by name instead of position
    aliased = "SELECT date_trunc('hour', start_timestamp) AS day, count(*) AS n FROM records GROUP BY day"
    body = {"sql": aliased, "min_timestamp": (T0 - timedelta(days=1)).isoformat()}
    refused = httpx.post(f"{server.url}/v2/query", json=body, headers={"Authorization": server.token})
    assert refused.status_code == 400, (page, refused.text)
    assert "must appear in the GROUP BY clause" in refused.json()["detail"]
    by_column = ask(server, "SELECT day, count(*) AS n FROM records GROUP BY day")
    assert by_column.type_of("day") == "Date32"
    assert sum(by_column.column("n")) == len(RECORDS)


def test_a_rewritten_query_keeps_datafusions_time_formats(server: LocalServer) -> None:
    """A query the layer rewrites (here for `->>`) is regenerated from sqlglot's tree; its
    `to_char` format must reach DataFusion as written (chrono's `%Y-%m`), not turned into
    Postgres' `YYYY-MM`, which DataFusion would print literally."""
    page = DASHBOARD_QUERIES  # `to_char` and `->>` in one query, as dashboards group by month
    answer = ask(
        server,
        "SELECT to_char(start_timestamp, '%Y-%m') AS month, attributes->>'http.route' AS route "
        "FROM records WHERE attributes ? 'http.route' LIMIT 1",
    )
    assert answer.rows[0]["month"] == T0.strftime("%Y-%m"), (page, answer.rows)
