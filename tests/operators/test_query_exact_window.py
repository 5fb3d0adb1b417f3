"""LogfireQueryOperator reads exactly `[start, end)` of its run, whatever the server's bounds.

Logfire does not document whether `min_timestamp`/`max_timestamp` include their edges. Here the
local server serves them inclusive at both ends (`[]`) and exclusive at the start (`(]`), with
rows exactly on the run's edges: a row at the day's start must be counted, one at its end must
not (the next day's run counts it). `exact_window=False` is the control: as written, the API
bounds alone decide, and these servers then get the edges wrong.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pyarrow as pa
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server
from tests.support.dag_tasks import (
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    connection_env,
    records_table,
)

US = timedelta(microseconds=1)
#: (start_timestamp, level): on and around the run's edges, and inside it.
EDGE_ROWS = [
    (DAY_START - US, 17),  # the day before: never
    (DAY_START, 17),  # the day's first instant: always
    (DAY_START + timedelta(hours=5), 9),
    (DAY_END - US, 17),  # the day's last instant: always
    (DAY_END, 17),  # the next day's first instant: never
]
INSIDE = ["e000000001", "e000000002", "e000000003"]
METRIC_TIMES = [DAY_START - US, DAY_START, DAY_END - US, DAY_END]


@pytest.fixture(scope="module", params=["[]", "(]"])
def report(request: pytest.FixtureRequest, run_module_dags: RunDags) -> tuple[str, DagRunReport]:
    bounds = request.param
    with LocalEngine() as engine:
        times, levels = zip(*EDGE_ROWS, strict=True)
        engine.insert_arrow("records", records_table(list(times), id_prefix="e", level=list(levels)))
        engine.insert_arrow(
            "metrics",
            pa.table(
                {
                    "recorded_timestamp": pa.array(METRIC_TIMES, pa.timestamp("us", "UTC")),
                    "metric_name": ["requests"] * len(METRIC_TIMES),
                }
            ),
        )
        with run_local_server(engine, token=SECRET_TOKEN, bounds=bounds) as server:
            (run,) = run_module_dags(
                [DAGS_DIR / "query_window_dags.py"],
                [{"dag_id": "lf_query_window", "logical_date": LOGICAL_DATE.isoformat()}],
                env=connection_env("logfire_default", server.url),
            )
    return bounds, run


def test_edge_rows_are_counted_once_whatever_the_bounds(report: tuple[str, DagRunReport]) -> None:
    _, run = report
    for task_id in ("count_records", "span_ids", "span_ids_csv", "count_metrics", "with_ctes"):
        assert run.tasks[task_id] == "success", run.task_log(task_id)[-3000:]
    assert run.xcom["count_records"] == [{"n": len(INSIDE)}]
    assert run.xcom["span_ids"] == [{"span_id": span_id} for span_id in INSIDE]
    assert [row[0] for row in csv.reader(io.StringIO(run.xcom["span_ids_csv"]))] == ["span_id", *INSIDE]
    assert run.xcom["count_metrics"] == [{"n": 2}]
    assert run.xcom["with_ctes"] == [{"errors": 2, "points": 2}]


def test_the_sql_sent_holds_the_window_and_the_rendered_sql_stays_the_users(
    report: tuple[str, DagRunReport],
) -> None:
    _, run = report
    log = run.task_log("count_records")
    assert (
        'WITH "records" AS (SELECT * FROM "records" WHERE "start_timestamp" >= \'2026-11-27T00:00:00.000000+00:00\''
        in log
    )
    assert run.rendered["count_records"]["sql"] == "SELECT count(*) AS n FROM records"


def test_without_exact_window_the_servers_bounds_decide(report: tuple[str, DagRunReport]) -> None:
    bounds, run = report
    assert run.tasks["span_ids_as_written"] == "success"
    # `[]` lets the next day's first row in; `(]` also loses the day's first row.
    expected = {"[]": [*INSIDE, "e000000004"], "(]": [*INSIDE[1:], "e000000004"]}
    assert [row["span_id"] for row in run.xcom["span_ids_as_written"]] == expected[bounds]


def test_a_recursive_query_runs_as_written_with_a_warning(report: tuple[str, DagRunReport]) -> None:
    bounds, run = report
    assert run.tasks["recursive"] == "success", run.task_log("recursive")[-3000:]
    assert "not restricted to the window (a WITH RECURSIVE query cannot shadow" in run.task_log("recursive")
    expected = {"[]": 4, "(]": 3}[bounds]
    assert run.xcom["recursive"] == [{"i": 1, "c": expected}, {"i": 2, "c": expected}]
