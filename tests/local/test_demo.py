"""Demo telemetry: exact counts, determinism, and data that holds together like a real service's.

The generated Arrow tables are checked with DuckDB (a dev dependency), an engine independent of
the one the server runs, so a mistake in the server cannot hide one in the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_logfire.local.demo import DemoSummary, generate_demo
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.tables import METRICS, RECORDS

END = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
DAYS = 3
ROWS_PER_DAY = 20_000
R = "records"
M = "metrics"


def _generate(**kwargs: object) -> tuple[DemoSummary, dict[str, pa.Table]]:
    """Run the generator; return its summary and each table's rows in the order written."""
    written: dict[str, list[pa.Table]] = {RECORDS.name: [], METRICS.name: []}
    summary = generate_demo(lambda name, rows: written[name].append(rows), **kwargs)  # type: ignore[arg-type]
    tables = {RECORDS.name: RECORDS, METRICS.name: METRICS}
    return summary, {
        name: pa.concat_tables(parts) if parts else tables[name].schema.empty_table()
        for name, parts in written.items()
    }


def _connect(tables: dict[str, pa.Table] | None = None) -> duckdb.DuckDBPyConnection:
    """DuckDB holding the generated tables as `records` and `metrics`."""
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    con.execute("SET TimeZone = 'UTC'")
    for name, table in (tables or {}).items():
        con.register(f"_{name}", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    rows = con.execute(sql).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[duckdb.DuckDBPyConnection, DemoSummary]]:
    """One shared data set (read-only for the tests using it): 3 full days and 3 hours."""
    summary, tables = _generate(days=DAYS, rows_per_day=ROWS_PER_DAY, seed=7, end=END)
    connection = _connect(tables)
    yield connection, summary
    connection.close()


@pytest.fixture(scope="module")
def db(demo: tuple[duckdb.DuckDBPyConnection, DemoSummary]) -> duckdb.DuckDBPyConnection:
    return demo[0]


# --- counts and time span ------------------------------------------------------------------


def test_summary_gives_exact_counts_and_span(demo: tuple[duckdb.DuckDBPyConnection, DemoSummary]) -> None:
    db, summary = demo
    partial = ROWS_PER_DAY * 3 // 24  # 03:00 of the last day: its share by clock time
    assert summary.records == DAYS * ROWS_PER_DAY + partial
    assert summary.start == datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert summary.end == END
    assert summary.start.tzinfo is not None and summary.start.utcoffset() == timedelta(0)
    assert _one(db, f"SELECT count(*) FROM {R}") == summary.records
    assert _one(db, f"SELECT count(*) FROM {M}") == summary.metrics > 0

    per_day = db.execute(f"SELECT day, count(*) FROM {R} GROUP BY day ORDER BY day").fetchall()
    assert per_day == [
        (date(2026, 11, 25), ROWS_PER_DAY),
        (date(2026, 11, 26), ROWS_PER_DAY),
        (date(2026, 11, 27), ROWS_PER_DAY),
        (date(2026, 11, 28), partial),
    ]


def test_every_row_lies_inside_the_span(demo: tuple[duckdb.DuckDBPyConnection, DemoSummary]) -> None:
    db, summary = demo
    first, last = _one(db, f"SELECT min(start_timestamp), max(start_timestamp) FROM {R}")
    assert summary.start <= first and last < summary.end
    # Spans end before `end` too: nothing is "in the future" of the data set.
    assert _one(db, f"SELECT max(end_timestamp) FROM {R}") < summary.end
    first, last = _one(db, f"SELECT min(recorded_timestamp), max(recorded_timestamp) FROM {M}")
    assert summary.start <= first and last < summary.end


def test_days_zero_inserts_nothing() -> None:
    summary, tables = _generate(days=0, rows_per_day=1000, end=END)
    assert summary == DemoSummary(records=0, metrics=0, start=END, end=END)
    assert tables[R].num_rows == tables[M].num_rows == 0


def test_end_at_midnight_gives_whole_days_only() -> None:
    end = datetime(2026, 11, 28, tzinfo=timezone.utc)
    summary, tables = _generate(days=2, rows_per_day=500, end=end)
    con = _connect(tables)
    assert summary.records == 1000
    assert summary.start == datetime(2026, 11, 26, tzinfo=timezone.utc)
    assert con.execute(f"SELECT DISTINCT day FROM {R} ORDER BY day").fetchall() == [
        (date(2026, 11, 26),),
        (date(2026, 11, 27),),
    ]


def test_end_in_another_time_zone_means_the_same_instant() -> None:
    paris_winter = timezone(timedelta(hours=1))
    summary, _ = _generate(days=1, rows_per_day=240, end=END.astimezone(paris_winter))
    assert (summary.start, summary.end, summary.records) == (
        datetime(2026, 11, 27, tzinfo=timezone.utc),
        END,
        270,
    )


def test_end_defaults_to_now() -> None:
    before = datetime.now(timezone.utc)
    summary, _ = _generate(days=1, rows_per_day=100)
    assert before <= summary.end <= datetime.now(timezone.utc)
    assert summary.start == datetime.combine(
        summary.end.date() - timedelta(days=1), datetime.min.time(), timezone.utc
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": -1, "rows_per_day": 10, "end": END}, "negative"),
        ({"days": 1, "rows_per_day": -10, "end": END}, "negative"),
        ({"days": 1, "rows_per_day": 10, "end": datetime(2026, 11, 28)}, "timezone-aware"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    written: list[str] = []
    with pytest.raises(ValueError, match=message):
        generate_demo(lambda name, rows: written.append(name), **kwargs)
    assert written == []


# --- determinism, order, all or nothing ----------------------------------------------------


def test_same_arguments_give_identical_rows() -> None:
    runs = [_generate(days=1, rows_per_day=3000, seed=seed, end=END)[1] for seed in (3, 3, 4)]
    assert runs[0][R].num_rows == 3000 + 375
    assert runs[0][R].equals(runs[1][R])
    assert runs[0][M].equals(runs[1][M])
    assert not runs[0][R].equals(runs[2][R])  # the seed matters


def test_rows_are_generated_in_time_order() -> None:
    _, tables = _generate(days=1, rows_per_day=3000, seed=5, end=END)
    for name, column in ((R, "start_timestamp"), (M, "recorded_timestamp")):
        times = tables[name].column(column).cast(pa.int64()).to_numpy()
        assert len(times) > 100 and np.all(times[1:] >= times[:-1]), name


def test_rows_come_in_the_stored_schema() -> None:
    _, tables = _generate(days=1, rows_per_day=300, seed=5, end=END)
    assert tables[R].schema == RECORDS.schema
    assert tables[M].schema == METRICS.schema


def test_a_failed_demo_load_leaves_the_engine_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow_provider_logfire.local.demo as demo_module

    def failing_metrics(*args: object) -> None:
        raise RuntimeError("metrics broke")

    with LocalEngine() as engine:
        engine.load_demo(days=1, rows_per_day=100, end=END)
        before = (engine.count(R), engine.count(M))
        monkeypatch.setattr(demo_module, "metrics_chunk", failing_metrics)
        with pytest.raises(RuntimeError, match="metrics broke"):
            engine.load_demo(days=1, rows_per_day=100, end=END, seed=9)
        assert (engine.count(R), engine.count(M)) == before == (112, before[1])


# --- the records hold together -------------------------------------------------------------

#: Columns the demo leaves NULL on purpose (nothing in a shop's FastAPI telemetry fills them).
ALWAYS_NULL_RECORD_COLUMNS = {"log_body", "otel_links", "otel_scope_attributes", "attributes_json_schema"}
ALWAYS_NULL_METRIC_COLUMNS = {
    "exemplars",
    "otel_scope_attributes",
    "service_instance_id",
    "process_pid",
    "attributes_json_schema",
    *(c.name for c in METRICS.columns if c.name.startswith("exp_histogram_")),  # no exponential histograms
}


@pytest.mark.parametrize(
    ("table", "columns", "always_null"),
    [(R, RECORDS.columns, ALWAYS_NULL_RECORD_COLUMNS), (M, METRICS.columns, ALWAYS_NULL_METRIC_COLUMNS)],
)
def test_columns_are_filled(
    db: duckdb.DuckDBPyConnection, table: str, columns: tuple, always_null: set
) -> None:
    counts = ", ".join(f'count("{c.name}")' for c in columns)
    filled = dict(zip([c.name for c in columns], _one(db, f"SELECT {counts} FROM {table}"), strict=True))
    total = _one(db, f"SELECT count(*) FROM {table}")
    for column in columns:
        if not column.nullable:
            assert filled[column.name] == total, column.name
        elif column.name in always_null:
            assert filled[column.name] == 0, column.name
        else:
            assert filled[column.name] > 0, f"{column.name} is never set"


def test_ids_are_hex_and_parents_are_spans_of_the_same_trace(db: duckdb.DuckDBPyConnection) -> None:
    assert _one(db, f"SELECT count(*) FROM {R} WHERE NOT regexp_full_match(trace_id, '[0-9a-f]{{32}}')") == 0
    assert _one(db, f"SELECT count(*) FROM {R} WHERE NOT regexp_full_match(span_id, '[0-9a-f]{{16}}')") == 0
    assert _one(db, f"SELECT count(*) - count(DISTINCT span_id) FROM {R}") == 0
    traces, roots = _one(
        db, f"SELECT count(DISTINCT trace_id), count(*) FILTER (parent_span_id IS NULL) FROM {R}"
    )
    assert traces == roots, "every trace has exactly one root"
    assert _one(db, f"SELECT count(*) FROM {R} WHERE parent_span_id IS NULL AND kind <> 'span'") == 0

    children = db.execute(
        f"""
        SELECT count(*), count(p.span_id), count(*) FILTER (p.kind = 'span'),
               count(*) FILTER (c.start_timestamp >= p.start_timestamp AND c.end_timestamp <= p.end_timestamp),
               count(*) FILTER (c.service_name <> p.service_name)
        FROM {R} c LEFT JOIN {R} p ON p.span_id = c.parent_span_id AND p.trace_id = c.trace_id
        WHERE c.parent_span_id IS NOT NULL
        """
    ).fetchall()[0]
    total, found, on_spans, inside, cross_service = children
    assert total > 0
    assert found == on_spans == inside == total
    assert cross_service > 0, "some traces cross services (checkout -> inventory)"


def test_timestamps_day_and_duration_agree(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute(
        f"""
        SELECT
          count(*) FILTER (day <> CAST(start_timestamp AS DATE)),
          count(*) FILTER (end_timestamp < start_timestamp),
          count(*) FILTER (kind = 'span' AND abs(duration - epoch(end_timestamp - start_timestamp)) > 1e-6),
          count(*) FILTER (kind IN ('log', 'span_event')
                           AND (duration IS NOT NULL OR end_timestamp <> start_timestamp)),
          count(*) FILTER (created_at NOT BETWEEN end_timestamp + INTERVAL 500 MILLISECOND
                                              AND end_timestamp + INTERVAL 5 SECOND),
          count(*) FILTER (project_id <> 'local')
        FROM {R}
        """
    ).fetchall()[0]
    assert bad == (0, 0, 0, 0, 0, 0)


def test_levels_and_kinds_look_like_a_real_service(db: duckdb.DuckDBPyConnection) -> None:
    share = dict(
        db.execute(f"SELECT level, count(*) / sum(count(*)) OVER () FROM {R} GROUP BY level").fetchall()
    )
    assert set(share) <= {1, 5, 9, 10, 13, 17, 21}
    assert share[9] > 0.6  # mostly info
    assert 0.05 < share[5] < 0.3  # some debug
    assert 0.01 < share[13] < 0.08  # some warnings
    assert 0.001 < share[17] < 0.02  # few errors
    assert share.get(21, 0) < 0.001  # fatal is rare

    kinds = dict(
        db.execute(f"SELECT kind, count(*) / sum(count(*)) OVER () FROM {R} GROUP BY kind").fetchall()
    )
    assert set(kinds) == {"span", "log", "span_event"}
    assert 0.1 < kinds["log"] < 0.4
    assert 0.01 < kinds["span_event"] < 0.1


def test_http_server_spans_fill_the_http_columns(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        f"""
        SELECT span_name, http_method, http_route, url_path, http_response_status_code, message
        FROM {R} WHERE http_route IS NOT NULL
        """
    ).fetchall()
    assert len(rows) > 1000
    for span_name, method, route, path, status, message in rows:
        assert span_name == f"{method} {route}"
        assert message == f"{method} {path}"
        assert status in {200, 201, 401, 404, 409, 500, 502}
    routes = {row[0] for row in rows}
    assert {"GET /orders/{id}", "GET /products", "POST /checkout", "GET /health"} <= routes
    assert any(path.startswith("/orders/") and path[8:].isdigit() for _, _, _, path, _, _ in rows)


def test_attributes_are_json_that_matches_the_columns(db: duckdb.DuckDBPyConnection) -> None:
    mismatches = db.execute(
        f"""
        SELECT
          count(*) FILTER (NOT json_valid(attributes) OR NOT json_valid(otel_resource_attributes)),
          count(*) FILTER (http_route IS NOT NULL AND (
              (attributes->>'http.route') IS DISTINCT FROM http_route
              OR (attributes->>'http.method') IS DISTINCT FROM http_method
              OR (attributes->>'url.path') IS DISTINCT FROM url_path
              OR (attributes->'http.response.status_code')::INTEGER IS DISTINCT FROM http_response_status_code)),
          -- Parenthesised: DuckDB 1.x (Python 3.10's) binds ->> looser than IS DISTINCT FROM and OR.
          count(*) FILTER ((otel_resource_attributes->>'service.name') IS DISTINCT FROM service_name
              OR (otel_resource_attributes->>'deployment.environment.name') IS DISTINCT FROM deployment_environment)
        FROM {R}
        """
    ).fetchall()[0]
    assert mismatches == (0, 0, 0)

    costs = db.execute(
        f"""
        SELECT count(*), min((attributes->'cost')::FLOAT), max((attributes->'cost')::FLOAT),
               count(DISTINCT (attributes->'user_id')::BIGINT)
        FROM {R} WHERE http_route = '/orders/{{id}}'
        """
    ).fetchall()[0]
    count, cheapest, dearest, users = costs
    assert count > 100 and 0 < cheapest < dearest and users > 100

    # A log's attributes carry the values its message shows.
    logs = db.execute(
        f"""
        SELECT message, attributes->>'order_id' FROM {R}
        WHERE span_name = 'order {{order_id}} loaded' LIMIT 50
        """
    ).fetchall()
    assert logs
    assert all(message == f"order {order_id} loaded" for message, order_id in logs)


def test_values_agree_across_a_trace(db: duckdb.DuckDBPyConnection) -> None:
    """The order placed, the user placing it and the amount appear consistently in one trace."""
    rows = db.execute(
        f"""
        SELECT l.message, (l.attributes->'order_id')::BIGINT, (l.attributes->'user_id')::BIGINT,
               (l.attributes->'total')::DOUBLE, (r.attributes->'user_id')::BIGINT, (r.attributes->'cost')::DOUBLE
        FROM {R} l JOIN {R} r ON r.trace_id = l.trace_id AND r.parent_span_id IS NULL
        WHERE l.span_name = 'order {{order_id}} placed by user {{user_id}} for {{total}} EUR'
        """
    ).fetchall()
    assert len(rows) > 50
    for message, order_id, user_id, total, root_user, root_cost in rows:
        assert message == f"order {order_id} placed by user {user_id} for {total} EUR"
        assert (user_id, total) == (root_user, root_cost)
    assert len({order_id for _, order_id, *_ in rows}) > 0.9 * len(rows)  # ids vary per trace
    assert sum(order_id != user_id for _, order_id, user_id, *_ in rows) > 0.9 * len(rows)


def test_errors_carry_exceptions(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        f"""
        SELECT level, otel_status_code, otel_status_message, exception_type, exception_message,
               exception_stacktrace, otel_events->>'$[#-1].name', otel_events->>'$[#-1].attributes."exception.type"'
        FROM {R} WHERE is_exception
        """
    ).fetchall()
    assert len(rows) > 10
    for level, status, status_message, exc_type, exc_message, stacktrace, event, event_type in rows:
        assert level >= 17 and status == "ERROR"
        assert exc_type and exc_message is not None and status_message.startswith(exc_type.rsplit(".", 1)[-1])
        assert stacktrace.startswith("Traceback (most recent call last):") and stacktrace.count("\n") >= 3
        assert stacktrace.rstrip().endswith(f"{exc_type}: {exc_message}".rstrip(": "))
        assert (event, event_type) == ("exception", exc_type)  # the last event: at the span's end
    assert len({row[3] for row in rows}) >= 3
    assert _one(db, f"SELECT count(*) FROM {R} WHERE http_response_status_code >= 500 AND level < 17") == 0
    assert _one(db, f"SELECT count(*) FROM {R} WHERE otel_status_code = 'ERROR' AND level < 17") == 0


def test_span_events_are_rows_and_entries_of_their_span(db: duckdb.DuckDBPyConnection) -> None:
    """As Logfire's SQL reference describes `kind`: each span event not named `exception` is a row
    of its own, and stays in its span's `otel_events` with the same name, time and attributes."""
    total, found, same_origin, event_like = db.execute(
        f"""
        SELECT count(*), count(p.span_id),
               count(*) FILTER (p.kind = 'span' AND c.service_name = p.service_name
                                AND c.otel_scope_name = p.otel_scope_name),
               count(*) FILTER (c.level = 9 AND c.otel_status_code IS NULL AND NOT c.is_exception
                                AND c.otel_events IS NULL AND c.message = c.span_name)
        FROM {R} c LEFT JOIN {R} p ON p.span_id = c.parent_span_id AND p.trace_id = c.trace_id
        WHERE c.kind = 'span_event'
        """
    ).fetchall()[0]
    assert total > 100
    assert found == same_origin == event_like == total
    names = {
        row[0]
        for row in db.execute(f"SELECT DISTINCT span_name FROM {R} WHERE kind = 'span_event'").fetchall()
    }
    assert names == {"order validated", "smtp connected"}

    # Every listed event but `exception` is exactly one row, and every event row is listed.
    listed, matched, event_rows = db.execute(
        f"""
        WITH entries AS (
            SELECT trace_id, span_id, unnest(CAST(otel_events AS JSON[])) AS e FROM {R} WHERE otel_events IS NOT NULL
        ), listed AS (
            SELECT trace_id, span_id, e->>'$.name' AS name, e->>'$.timestamp' AS at,
                   CAST(e->'$.attributes' AS VARCHAR) AS attributes
            FROM entries WHERE e->>'$.name' <> 'exception'
        )
        SELECT (SELECT count(*) FROM listed), count(c.span_id),
               (SELECT count(*) FROM {R} WHERE kind = 'span_event')
        FROM listed l LEFT JOIN {R} c
          ON c.kind = 'span_event' AND c.trace_id = l.trace_id AND c.parent_span_id = l.span_id
         AND c.span_name = l.name AND strftime(c.start_timestamp, '%Y-%m-%dT%H:%M:%S.%fZ') = l.at
         AND CAST(json(c.attributes) AS VARCHAR) = l.attributes
        """
    ).fetchall()[0]
    assert listed == matched == event_rows == total
    # A failed send lists its connection event first, then the exception at the span's end.
    both = db.execute(
        f"SELECT otel_events->>'$[0].name', otel_events->>'$[1].name' FROM {R} "
        "WHERE is_exception AND span_name = 'sending e-mail to user {user_id}' LIMIT 1"
    ).fetchall()
    assert both == [("smtp connected", "exception")]


def test_services_versions_environments_and_tags(db: duckdb.DuckDBPyConnection) -> None:
    services = {row[0] for row in db.execute(f"SELECT DISTINCT service_name FROM {R}").fetchall()}
    assert services == {"api-gateway", "checkout", "inventory", "email-worker"}
    environments = {
        row[0] for row in db.execute(f"SELECT DISTINCT deployment_environment FROM {R}").fetchall()
    }
    assert environments == {"prod", "staging", None}
    assert (
        _one(
            db, f"SELECT count(*) FROM {R} WHERE NOT regexp_full_match(service_version, '\\d+\\.\\d+\\.\\d+')"
        )
        == 0
    )
    assert _one(db, f"SELECT count(DISTINCT service_version) FROM {R} WHERE service_name = 'checkout'") >= 2
    assert _one(db, f"SELECT count(*) FROM {R} WHERE tags IS NULL") == 0  # [] when untagged, as on Logfire
    tagged = _one(db, f"SELECT count(*) FILTER (len(tags) > 0) / count(*) FROM {R}")
    assert 0.05 < tagged < 0.9
    assert _one(db, f"SELECT count(*) FROM {R} WHERE list_contains(tags, 'billing')") > 0


def test_traffic_follows_the_time_of_day(db: duckdb.DuckDBPyConnection) -> None:
    per_hour = dict(
        db.execute(
            f"SELECT hour(start_timestamp), count(*) FROM {R} WHERE day = '2026-11-26' GROUP BY 1"
        ).fetchall()
    )
    assert len(per_hour) == 24
    assert per_hour[16] > 3 * per_hour[4]  # afternoon peak, early-morning lull
    assert max(per_hour, key=per_hour.__getitem__) in range(13, 20)


# --- metrics --------------------------------------------------------------------------------


def test_request_metrics_count_the_server_spans(db: duckdb.DuckDBPyConnection) -> None:
    last_point = _one(db, f"SELECT max(recorded_timestamp) FROM {M}")
    counted = dict(
        db.execute(
            f"""
            SELECT attributes->>'http.route', sum(scalar_value)::BIGINT FROM {M}
            WHERE metric_name = 'http.server.requests' GROUP BY 1
            """
        ).fetchall()
    )
    spans = dict(
        db.execute(
            f"SELECT http_route, count(*) FROM {R} WHERE http_route IS NOT NULL AND start_timestamp < ? GROUP BY 1",
            [last_point],
        ).fetchall()
    )
    assert counted == spans
    kinds = db.execute(
        f"SELECT DISTINCT metric_type, aggregation_temporality, is_monotonic FROM {M} "
        "WHERE metric_name = 'http.server.requests'"
    ).fetchall()
    assert kinds == [("sum", "delta", True)]


def test_metric_functions_read_the_demo_metrics() -> None:
    """Logfire's metric functions (dashboard-query guide, "Working with metrics") on the demo's
    points, in the local engine, agree with the spans they were made from (read with DuckDB)."""
    end = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
    with LocalEngine() as engine:
        engine.load_demo(days=1, rows_per_day=4_000, seed=5, end=end)

        def ask(sql: str) -> list[dict]:
            with engine.query(sql, limit=10_000) as result:
                return [row for batch in result for row in batch.to_pylist()]

        requests = ask(
            "SELECT attributes->>'http.route' AS route, metric_increase(value, recorded_timestamp) AS n "
            "FROM metrics WHERE metric_name = 'http.server.requests' GROUP BY 1"
        )
        medians = ask(
            "SELECT attributes->>'http.route' AS route, metric_quantile(0.5, value) AS p50, "
            "max(histogram_explicit_bounds) AS bounds, max(recorded_timestamp) AS last "
            "FROM metrics WHERE metric_name = 'http.server.duration' GROUP BY 1"
        )
        spans = pa.Table.from_pylist(
            ask("SELECT http_route, duration, start_timestamp FROM records WHERE http_route IS NOT NULL")
        )
    con = _connect({"spans": spans})
    last = max(row["last"] for row in medians)
    counted = dict(
        con.execute(
            "SELECT http_route, count(*) FROM spans WHERE start_timestamp < ? GROUP BY 1", [last]
        ).fetchall()
    )
    assert {row["route"]: row["n"] for row in requests} == counted
    exact = dict(
        con.execute(
            "SELECT http_route, quantile_disc(duration * 1000, 0.5) FROM spans WHERE start_timestamp < ? GROUP BY 1",
            [last],
        ).fetchall()
    )
    assert len(medians) == len(exact) >= 5
    for row in medians:
        bounds = [0.0, *row["bounds"], float("inf")]
        true_median = exact[row["route"]]
        # The estimate lies in the bucket that holds the spans' own median.
        bucket = next(i for i in range(1, len(bounds)) if true_median <= bounds[i])
        assert bounds[bucket - 1] <= row["p50"] <= bounds[bucket], (row, true_median)


def test_histograms_are_consistent(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        f"""
        SELECT histogram_count, histogram_sum, histogram_min, histogram_max,
               histogram_bucket_counts, histogram_explicit_bounds, start_timestamp, recorded_timestamp
        FROM {M} WHERE metric_name = 'http.server.duration'
        """
    ).fetchall()
    assert len(rows) > 100
    for count, total, low, high, buckets, bounds, start, recorded in rows:
        assert len(buckets) == len(bounds) + 1 and sum(buckets) == count > 0
        assert 0 <= low <= high and count * low - 1e-6 <= total <= count * high + 1e-6
        filled = [i for i, n in enumerate(buckets) if n]
        # Bucket i holds (bounds[i-1], bounds[i]]: the extremes sit in the first and last filled buckets.
        assert (filled[0] == 0 or bounds[filled[0] - 1] < low) and (
            filled[0] == len(bounds) or low <= bounds[filled[0]]
        )
        assert (filled[-1] == 0 or bounds[filled[-1] - 1] < high) and (
            filled[-1] == len(bounds) or high <= bounds[filled[-1]]
        )
        assert recorded - start == timedelta(minutes=1)


def test_memory_gauge_reports_every_minute_per_service(
    demo: tuple[duckdb.DuckDBPyConnection, DemoSummary],
) -> None:
    db, summary = demo
    minutes = int((summary.end - summary.start) / timedelta(minutes=1)) - 1  # marks strictly inside the span
    points = db.execute(
        f"""
        SELECT service_name, count(*), count(DISTINCT recorded_timestamp), min(scalar_value), max(scalar_value)
        FROM {M} WHERE metric_name = 'process.memory.usage' GROUP BY 1
        """
    ).fetchall()
    assert len(points) == 4
    for _, count, distinct, low, high in points:
        assert count == distinct == minutes
        assert 50 * 2**20 < low < high < 2**30
