"""The `metric_*` functions and `value` of `metrics`, checked against independent answers.

Logfire's dashboard-query guide ("Working with metrics") says `metric_quantile` "computes the same
estimate" as its bucket-unpacking recipe; the recipe itself runs here (DataFusion SQL, as the guide
writes it) and its approximate observations are the reference. Merged groups are checked against
hand-computed answers and against one equivalent point. Everything goes over HTTP to the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_logfire.local import metric_functions
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from tests.local.test_dialect import EXP_BUCKET_BOUNDS

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
DASHBOARD_QUERIES = "docs/how-to-guides/write-dashboard-queries.md (Working with metrics)"


def _point(minute: float, name: str, metric_type: str, **columns: Any) -> dict[str, Any]:
    return {
        "recorded_timestamp": T0 + timedelta(minutes=minute),
        "metric_name": name,
        "metric_type": metric_type,
        "unit": "s",
        "service_name": "api",
        "attributes": columns.pop("attributes", "{}"),
        **columns,
    }


def _exponential(
    minute: float, name: str, scale: int, offset: int, counts: list[int], low: float, high: float
):
    return _point(
        minute,
        name,
        "exponential_histogram",
        histogram_count=sum(counts),
        histogram_sum=float(sum(counts)) * (low + high) / 2,
        histogram_min=low,
        histogram_max=high,
        exp_histogram_scale=scale,
        exp_histogram_zero_count=0,
        exp_histogram_positive_bucket_counts=counts,
        exp_histogram_positive_bucket_counts_offset=offset,
        exp_histogram_negative_bucket_counts=[],
        exp_histogram_negative_bucket_counts_offset=0,
    )


def _random_points(count: int) -> list[dict[str, Any]]:
    """Exponential histograms of random scales, offsets and counts, with consistent min/max."""
    rng = np.random.default_rng(9)
    points = []
    for i in range(count):
        scale = int(rng.integers(-1, 4))
        offset = int(rng.integers(-8, 8))
        counts = [int(c) for c in rng.integers(0, 12, int(rng.integers(1, 6)))]
        counts[0] = counts[0] or 1
        counts[-1] = counts[-1] or 1
        base = 2.0 ** (2.0**-scale)
        low = base**offset * (1 + 0.3 * rng.random() * (base - 1))
        high = base ** (offset + len(counts)) * (1 - 0.3 * rng.random() * (1 - 1 / base))
        points.append(_exponential(i, "random.duration", scale, offset, counts, low, high))
    return points


def _explicit(
    minute: float,
    counts: list[int],
    low: float,
    high: float,
    bounds: list[float] | None = None,
    name: str = "",
):
    return _point(
        minute,
        name or "db.query.duration",
        "histogram",
        histogram_count=sum(counts),
        histogram_sum=1.0,
        histogram_min=low,
        histogram_max=high,
        histogram_bucket_counts=counts,
        histogram_explicit_bounds=bounds or [0.01, 0.1, 1.0],
    )


METRICS = [
    *_random_points(25),
    # Two scales merged at the coarser one: scale 1 buckets 2, 3, 4 are scale 0 buckets 1, 1, 2.
    _exponential(0, "merged.duration", 1, 2, [1, 2, 3], 2.1, 5.5),
    _exponential(1, "merged.duration", 0, 1, [2], 2.5, 3.9),
    # The same observations as one point at scale 0.
    _exponential(2, "single.duration", 0, 1, [5, 3], 2.1, 5.5),
    _explicit(0, [1, 2, 1, 0], 0.005, 0.5),
    _explicit(1, [0, 1, 1, 1], 0.05, 2.0),
    _explicit(2, [1, 1], 0.5, 3.0, bounds=[1.0], name="other.duration"),  # other bounds
    _point(0, "gauge.level", "gauge", scalar_value=3.0),
    *(
        _point(
            minute,
            "http.server.requests",
            "sum",
            scalar_value=amount,
            aggregation_temporality="delta",
            start_timestamp=T0 + timedelta(minutes=minute - 1),
        )
        for minute, amount in ((1, 3.0), (2, 5.0), (3, 0.0))
    ),
]


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names = list(dict.fromkeys(name for row in rows for name in row))
    return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalEngine() as engine:
        engine.insert_arrow("metrics", _table(METRICS))
        engine.insert_arrow(
            "records",
            _table(
                [
                    {
                        "start_timestamp": T0,
                        "end_timestamp": T0,
                        "trace_id": "1" * 32,
                        "span_id": "2" * 16,
                        "kind": "log",
                        "level": 9,
                        "span_name": "x",
                        "message": "x",
                        "service_name": "api",
                    }
                ]
            ),
        )
        with run_local_server(engine) as running:
            yield running


def query(server: LocalServer, sql: str) -> httpx.Response:
    body = {"sql": sql, "min_timestamp": (T0 - timedelta(days=1)).isoformat(), "limit": 10_000}
    return httpx.post(
        f"{server.url}/v2/query", json=body, headers={"Authorization": server.token}, timeout=60
    )


def rows(server: LocalServer, sql: str) -> list[dict[str, Any]]:
    response = query(server, sql)
    assert response.status_code == 200, response.text
    return response.json()["data"]


#: The guide's recipe ("Unpacking raw histogram buckets"), as written there, then its observations.
RECIPE = (
    EXP_BUCKET_BOUNDS
    + """,
bounds_with_index as (
    select unnest(generate_series(0, bucket_count - 1)) as i, *
    from bounds
),
bucket_item_approx as (
    select
    case
        when bucket_count = 1 then (lower_bound + upper_bound) / 2
        else lower_bound + i * (upper_bound - lower_bound) / (bucket_count - 1)
    end as approx_item, *
    from bounds_with_index
)
select recorded_timestamp, approx_item from bucket_item_approx where metric_name = 'random.duration'"""
)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.5, 0.95, 0.99, 1.0])
def test_quantile_is_the_guides_recipe_estimate(server: LocalServer, p: float) -> None:
    page = DASHBOARD_QUERIES  # "prefer metric_quantile: it computes the same estimate"
    items: dict[str, list[float]] = {}
    for row in rows(server, RECIPE):
        items.setdefault(row["recorded_timestamp"], []).append(row["approx_item"])
    assert len(items) == 25
    answers = rows(
        server,
        f"SELECT recorded_timestamp, metric_quantile({p}, value) AS q FROM metrics "
        "WHERE metric_name = 'random.duration' GROUP BY recorded_timestamp",
    )
    assert len(answers) == 25
    for answer in answers:
        expected = float(np.quantile(items[answer["recorded_timestamp"]], p))
        assert answer["q"] == pytest.approx(expected, rel=1e-9), (page, answer)


def test_quantile_merges_scales_at_the_coarsest(server: LocalServer) -> None:
    merged = rows(
        server,
        "SELECT metric_quantile(0.5, value) AS p50, metric_quantile(0.9, value) AS p90 FROM metrics "
        "WHERE metric_name = 'merged.duration'",
    )
    single = rows(
        server,
        "SELECT metric_quantile(0.5, value) AS p50, metric_quantile(0.9, value) AS p90 FROM metrics "
        "WHERE metric_name = 'single.duration'",
    )
    # By hand: 5 observations over [2.1, 4] (2.1, 2.575, 3.05, 3.525, 4) and 3 over [4, 5.5]
    # (4, 4.75, 5.5); the median lies halfway between the 4th and 5th, p90 at 6.3 of 0..7.
    assert merged == single == [{"p50": pytest.approx(3.7625), "p90": pytest.approx(4.75 + 0.3 * 0.75)}]


def test_quantile_of_explicit_histograms(server: LocalServer) -> None:
    answer = rows(
        server,
        "SELECT metric_quantile(0.5, value) AS p50, metric_quantile(0.95, value) AS p95 FROM metrics "
        "WHERE metric_name = 'db.query.duration'",
    )
    # Merged counts [1, 3, 2, 1] over [0.005, 0.01], [0.01, 0.1], [0.1, 1], [1, 2]: observations
    # 0.0075 | 0.01, 0.055, 0.1 | 0.1, 1.0 | 1.5.
    assert answer == [{"p50": pytest.approx(0.1), "p95": pytest.approx(1.0 + 0.7 * 0.5)}]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("metric_name IN ('db.query.duration', 'other.duration')", "must share their bucket bounds"),
        ("metric_name IN ('db.query.duration', 'merged.duration')", "exponential_histogram, histogram"),
        ("metric_name IN ('gauge.level', 'merged.duration')", "filter on metric_type or group by it"),
    ],
)
def test_quantile_of_mixed_points_is_refused(server: LocalServer, where: str, message: str) -> None:
    page = DASHBOARD_QUERIES  # "metric_quantile and metric_merge require ... the same histogram flavor"
    response = query(server, f"SELECT metric_quantile(0.5, value) AS q FROM metrics WHERE {where}")
    assert response.status_code == 400, (page, response.text)
    assert message in response.json()["detail"]


def test_quantile_must_be_a_fraction(server: LocalServer) -> None:
    response = query(
        server, "SELECT metric_quantile(95, value) FROM metrics WHERE metric_name = 'gauge.level'"
    )
    assert response.status_code == 400
    assert "between 0 and 1" in response.json()["detail"]


def test_delta_counters_add_up(server: LocalServer) -> None:
    answer = rows(
        server,
        "SELECT metric_increase(value, recorded_timestamp) AS n, metric_rate(value, recorded_timestamp) AS r "
        "FROM metrics WHERE metric_name = 'http.server.requests'",
    )
    # 3 + 5 + 0 requests over 10:00 (the first point's start) to 10:03
    assert answer == [{"n": 8.0, "r": pytest.approx(8 / 180)}]


def test_merge_gives_one_point(server: LocalServer) -> None:
    [merged] = rows(
        server,
        "SELECT metric_merge(value) AS v FROM metrics WHERE metric_name = 'merged.duration'",
    )
    value = merged["v"]
    assert (value["metric_type"], value["exp_histogram_scale"]) == ("exponential_histogram", 0)
    assert value["exp_histogram_positive_bucket_counts"] == [5, 3]
    assert value["exp_histogram_positive_bucket_counts_offset"] == 1
    assert (value["histogram_count"], value["histogram_min"], value["histogram_max"]) == (8, 2.1, 5.5)
    # A merged point answers the per-row functions and a further quantile like its parts.
    [again] = rows(
        server,
        "SELECT sum(metric_count(v)) AS n, metric_quantile(0.5, v) AS p50 FROM ("
        "SELECT metric_merge(value) AS v FROM metrics WHERE metric_name = 'merged.duration')",
    )
    assert again == {"n": 8, "p50": pytest.approx(3.7625)}
    [gauge] = rows(server, "SELECT metric_merge(value) AS v FROM metrics WHERE metric_name = 'gauge.level'")
    assert (gauge["v"]["metric_type"], gauge["v"]["scalar_value"]) == ("gauge", 3.0)
    [requests] = rows(
        server,
        "SELECT metric_sum(metric_merge(value)) AS n FROM metrics WHERE metric_name = 'http.server.requests'",
    )
    assert requests == {"n": 8.0}


def test_value_resolves_where_a_query_names_it(server: LocalServer) -> None:
    # Qualified, next to a table without `value`; unnamed output columns keep their written name.
    answer = rows(
        server,
        "SELECT metric_avg(m.value), r.span_name FROM metrics m JOIN records r ON r.service_name = m.service_name "
        "WHERE m.metric_name = 'gauge.level'",
    )
    assert answer == [{"metric_avg(m.value)": 3.0, "span_name": "x"}]
    # A CTE passing the columns on, as the query operator's window prefix writes it.
    assert rows(
        server,
        "WITH metrics AS (SELECT * FROM metrics WHERE metric_name = 'gauge.level') "
        "SELECT metric_max(value) AS hi FROM metrics",
    ) == [{"hi": 3.0}]
    # An output column named `value` is what ORDER BY `value` means.
    ordered = rows(
        server,
        "SELECT metric_count(value) AS value FROM metrics WHERE metric_name = 'db.query.duration' ORDER BY value",
    )
    assert ordered == [{"value": 3}, {"value": 4}]
    # `SELECT *` lists the stored columns, as the service's /v1/schemas does.
    [star] = rows(server, "SELECT * FROM metrics WHERE metric_name = 'gauge.level'")
    assert "value" not in star and len(star) == 41


def test_aggregate_state_survives_a_split_group() -> None:
    """DataFusion may aggregate a group in parts and merge their states: the answer is the same."""
    table = _table([p for p in METRICS if p["metric_name"] in ("merged.duration", "single.duration")][:2])
    value = pa.array(
        [
            {name: row.get(name) for name in metric_functions.VALUE_FIELDS} | {"series": "s"}
            for row in table.to_pylist()
        ],
        metric_functions.VALUE_TYPE,
    )
    quantile = pa.array([0.5, 0.5])
    whole = metric_functions._Quantile()
    whole.update(quantile, value)
    first, second = metric_functions._Quantile(), metric_functions._Quantile()
    first.update(quantile[:1], value[:1])
    second.update(quantile[1:], value[1:])
    states = [pa.array([s]) for s in second.state()]
    first.merge(states)
    assert first.evaluate().as_py() == whole.evaluate().as_py() == pytest.approx(3.7625)
    assert json.dumps(whole.evaluate().as_py())  # a plain float
