"""OpenLineage events and the "Logfire" extra link of both operators, through `dag.test()`.

The DAGs (`dags/lineage_dags.py`) run with the OpenLineage provider configured to its file
transport, as a deployment would configure it (`AIRFLOW__OPENLINEAGE__TRANSPORT`); under
`dag.test()` the task SDK calls the OpenLineage listener, which forks to build and emit each event.
The test reads the emitted START/COMPLETE events back and compares them with what the tasks
returned and what the local server says. The links are read the way the web UI reads them:
through Airflow's API server, which only looks at what the task stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local.testing import LocalServer
from tests.conftest import airflow_api_client
from tests.support.dag_tasks import (
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    records_table,
)

ROWS = 24
ERRORS = 6  # every fourth row is an error
EU_UI = "https://logfire-eu.pydantic.dev"
US_UI = "https://logfire-us.pydantic.dev"
#: The day the runs read, as the Logfire UI's `since`/`until` parameters spell it (URL-encoded).
WINDOW_QUERY = "since=2026-11-27T00%3A00%3A00Z&until=2026-11-28T00%3A00%3A00Z"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lineage_exports")


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("openlineage") / "events.jsonl"


@pytest.fixture(scope="module")
def reports(
    server: LocalServer, run_module_dags: RunDags, exports: Path, events_file: Path
) -> dict[str, DagRunReport]:
    step = (DAY_END - DAY_START) / ROWS
    server.engine.insert_arrow(
        "records",
        records_table(
            [DAY_START + i * step for i in range(ROWS)],
            id_prefix="lin",
            service_name=["api" if i % 2 else "web" for i in range(ROWS)],
            level=[17 if i % 4 == 0 else 9 for i in range(ROWS)],
            deployment_environment=["prod"] * ROWS,
        ),
    )
    env = {
        **connection_env("logfire_default", server.url),
        **_ui_connection("logfire_eu_ui", server.url, EU_UI),
        **_ui_connection("logfire_us_ui", server.url, US_UI),
        "LINEAGE_EXPORT_ROOT": str(exports),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "lineage-tests",
    }
    runs = run_module_dags(
        [DAGS_DIR / "lineage_dags.py"],
        [
            # First: under dag.test() all tasks share one process, hence one hook-lineage collector.
            {"dag_id": "lf_hook_lineage", "logical_date": LOGICAL_DATE.isoformat()},
            {"dag_id": "lf_lineage", "logical_date": LOGICAL_DATE.isoformat()},
            {"dag_id": "lf_links", "logical_date": LOGICAL_DATE.isoformat()},
        ],
        env=env,
    )
    by_dag = {run.dag_id: run for run in runs}
    for run in runs:
        for task_id, state in run.tasks.items():
            assert state == "success", run.task_log(task_id)[-4000:]
    return by_dag


def _ui_connection(conn_id: str, url: str, ui_url: str) -> dict[str, str]:
    conn = {"conn_type": "logfire", "host": url, "password": SECRET_TOKEN, "extra": {"ui_url": ui_url}}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}


@pytest.fixture(scope="module")
def events(reports: dict[str, DagRunReport], events_file: Path) -> list[dict[str, Any]]:
    assert events_file.exists(), "no OpenLineage event was written: " + reports["lf_lineage"].log[-3000:]
    return [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]


def _event(events: list[dict[str, Any]], job: str, kind: str) -> dict[str, Any]:
    found = [e for e in events if e["job"]["name"] == job and e["eventType"] == kind]
    assert len(found) == 1, (job, kind, sorted({(e["job"]["name"], e["eventType"]) for e in events}))
    return found[0]


def _namespace(server: LocalServer) -> str:
    """The local server's project as the read token names it (organization "local", project "demo")."""
    return f"logfire://{urlsplit(server.url).netloc}/local/demo"


def _datasets(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((d["namespace"], d["name"]) for d in datasets)


def test_query_operator_reports_the_tables_it_reads_the_sql_and_the_window(
    events: list[dict[str, Any]], reports: dict[str, DagRunReport], server: LocalServer
) -> None:
    start = _event(events, "lf_lineage.errors", "START")
    complete = _event(events, "lf_lineage.errors", "COMPLETE")
    expected_inputs = [(_namespace(server), "metrics"), (_namespace(server), "records")]
    for event in (start, complete):
        assert _datasets(event["inputs"]) == expected_inputs  # the CTE `errors` is not a table
        assert event["outputs"] == []
        sql = event["job"]["facets"]["sql"]["query"]
        assert "level >= 17" in sql and "%(min_level)s" not in sql, sql  # the SQL as sent
        window = event["run"]["facets"]["logfireQuery"]
        assert window["min_timestamp"] == DAY_START.isoformat()
        assert window["max_timestamp"] == DAY_END.isoformat()
    rows = reports["lf_lineage"].xcom["errors"]
    assert sum(row["n"] for row in rows) == ERRORS
    assert (
        complete["run"]["facets"]["logfireQuery"]["row_count"] == len(rows) == 1
    )  # errors are on even rows: "web"
    assert "row_count" not in start["run"]["facets"]["logfireQuery"] or (
        start["run"]["facets"]["logfireQuery"]["row_count"] is None
    )


def test_transfer_reports_the_file_with_its_schema_and_statistics(
    events: list[dict[str, Any]], reports: dict[str, DagRunReport], server: LocalServer, exports: Path
) -> None:
    summary = reports["lf_lineage"].xcom["export_file"]
    path = exports / "file" / "2026-11-28" / "records.parquet"
    assert summary["path"] == str(path)
    start = _event(events, "lf_lineage.export_file", "START")
    complete = _event(events, "lf_lineage.export_file", "COMPLETE")
    for event in (start, complete):
        assert _datasets(event["inputs"]) == [(_namespace(server), "records")]
        assert _datasets(event["outputs"]) == [("file", str(path))]
    output = complete["outputs"][0]
    written = pq.read_schema(path)
    fields = [(f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]]
    assert (
        [name for name, _ in fields]
        == written.names
        == ["span_id", "service_name", "level", "start_timestamp"]
    )
    assert dict(fields)["start_timestamp"] == str(written.field("start_timestamp").type)
    statistics = output["outputFacets"]["outputStatistics"]
    assert statistics["rowCount"] == summary["rows"] == pq.read_metadata(path).num_rows == ROWS
    assert statistics["size"] == summary["bytes"] == path.stat().st_size
    assert statistics["fileCount"] == 1
    assert "outputStatistics" not in start["outputs"][0].get("outputFacets", {})


def test_transfer_reports_a_file_set_as_its_folder(
    events: list[dict[str, Any]], reports: dict[str, DagRunReport], exports: Path
) -> None:
    summary = reports["lf_lineage"].xcom["export_set"]
    root = exports / "set" / "2026-11-28"
    assert summary["path"] == str(root) and len(summary["files"]) == ROWS // 10 + 1
    start = _event(events, "lf_lineage.export_set", "START")
    complete = _event(events, "lf_lineage.export_set", "COMPLETE")
    assert _datasets(start["outputs"]) == _datasets(complete["outputs"]) == [("file", str(root))]
    statistics = complete["outputs"][0]["outputFacets"]["outputStatistics"]
    assert statistics == {**statistics, "rowCount": ROWS, "fileCount": len(summary["files"])}
    assert statistics["size"] == summary["bytes"] == sum(Path(f).stat().st_size for f in summary["files"])


def test_hook_reads_reach_openlineage_through_the_hook_lineage_collector(
    events: list[dict[str, Any]], reports: dict[str, DagRunReport], server: LocalServer
) -> None:
    """A `@task` that only uses the hook: its event's input comes from the hook-lineage collector."""
    assert reports["lf_hook_lineage"].xcom["hook_read"] == ROWS
    complete = _event(events, "lf_hook_lineage.hook_read", "COMPLETE")
    assert _datasets(complete["inputs"]) == [(_namespace(server), "records")]
    # common-sql's `sql_job` extra: OpenLineage emits the query as a child job of the task.
    query = _event(events, "lf_hook_lineage.hook_read.query.1", "COMPLETE")
    assert query["job"]["facets"]["sql"]["query"] == "SELECT count(*) AS n FROM records"
    assert query["run"]["facets"]["parent"]["job"]["name"] == "lf_hook_lineage.hook_read"


def test_no_event_carries_the_token(events: list[dict[str, Any]], events_file: Path) -> None:
    assert events, "no events"
    text = events_file.read_text()
    assert SECRET_TOKEN not in text and SECRET_TOKEN[-16:] not in text


def test_runs_keep_the_token_out_of_logs_and_xcom(reports: dict[str, DagRunReport]) -> None:
    assert_secrets_absent(reports.values(), SECRET_TOKEN)


# -- the "Logfire" link, as the web UI gets it --------------------------------------------------


@pytest.fixture(scope="module")
def api_client(reports: dict[str, DagRunReport]) -> Iterator[Any]:
    """Airflow's API server in this process, on the database the DAG runs wrote to."""
    with airflow_api_client() as client:
        yield client


def _links(api_client: Any, report: DagRunReport, task_id: str) -> dict[str, str | None]:
    response = api_client.get(
        f"/api/v2/dags/{report.dag_id}/dagRuns/{report.run_id}/taskInstances/{task_id}/links"
    )
    assert response.status_code == 200, response.text
    return response.json()["extra_links"]


def test_link_goes_to_the_projects_live_view_over_the_window(
    api_client: Any, reports: dict[str, DagRunReport]
) -> None:
    report = reports["lf_links"]
    assert _links(api_client, report, "eu") == {"Logfire": f"{EU_UI}/local/demo?{WINDOW_QUERY}"}
    assert _links(api_client, report, "us_prod") == {"Logfire": f"{US_UI}/local/demo?{WINDOW_QUERY}&env=prod"}
    assert _links(api_client, report, "export_eu") == {"Logfire": f"{EU_UI}/local/demo?{WINDOW_QUERY}"}


def test_a_local_server_without_ui_url_has_no_link(api_client: Any, reports: dict[str, DagRunReport]) -> None:
    report = reports["lf_links"]
    assert _links(api_client, report, "local") == {"Logfire": None}
    assert _links(api_client, reports["lf_lineage"], "export_file") == {"Logfire": None}
