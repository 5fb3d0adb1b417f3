"""The local server through real HTTP: every format of both API versions, errors, auth, limits."""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.local.engine import QUERY_BUDGET_THREAD, LocalEngine
from airflow_provider_logfire.local.tables import schemas_document
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

from .conftest import IN_WINDOW, T0, T1, window_body

RECORD_COLUMNS = "start_timestamp, message, level, tags, is_exception, attributes, day, duration"
ORDERED = f"SELECT {RECORD_COLUMNS} FROM records ORDER BY start_timestamp"
WINDOW_PARAMS = {"min_timestamp": T0.isoformat(), "max_timestamp": T1.isoformat()}
ARROW = "application/vnd.apache.arrow.stream"

EXPECTED_V2_FIELDS = [
    # Not-null columns stay not null in answers, as the service records them.
    {"name": "start_timestamp", "data_type": {"Timestamp": ["Microsecond", "UTC"]}, "nullable": False},
    {"name": "message", "data_type": "Utf8", "nullable": False},
    {"name": "level", "data_type": "Int32", "nullable": False},
    {
        "name": "tags",
        "data_type": {
            "List": {
                "name": "item",
                "data_type": "Utf8",
                "nullable": True,
                "dict_id": 0,
                "dict_is_ordered": False,
                "metadata": {},
            }
        },
        "nullable": True,
    },
    {"name": "is_exception", "data_type": "Boolean", "nullable": True},
    {"name": "attributes", "data_type": "Utf8", "nullable": True},
    {"name": "day", "data_type": "Date32", "nullable": False},
    {"name": "duration", "data_type": "Float64", "nullable": True},
]
FIRST_ROW = {
    "start_timestamp": "2026-11-27T00:00:00.000000Z",
    "message": "at-min",
    "level": 9,
    "tags": ["seed", "at-min"],
    "is_exception": False,
    "attributes": '{"n": 1}',
    "day": "2026-11-27",
    "duration": 0.005,
}


def v1(client: httpx.Client, sql: str, accept: str | None = None, **params: object) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return client.get("/v1/query", params={"sql": sql, **params}, headers=headers)


def v2(client: httpx.Client, body: dict, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return client.post("/v2/query", json=body, headers=headers)


# -- public and authenticated endpoints ----------------------------------------------------


def test_health_needs_no_token(seeded_server: LocalServer) -> None:
    response = httpx.get(f"{seeded_server.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("header", ["Bearer {token}", "bearer {token}", "{token}", "Bearer   {token}"])
def test_bearer_and_raw_tokens_are_accepted(seeded_server: LocalServer, header: str) -> None:
    response = httpx.get(
        f"{seeded_server.url}/v1/read-token-info",
        headers={"Authorization": header.format(token=seeded_server.token)},
    )
    assert response.status_code == 200
    info = response.json()
    assert (info["organization_name"], info["project_name"]) == ("local", "demo")
    assert set(info) == {  # the fields the service answers with (logfire-api.md)
        "token_id",
        "organization_id",
        "organization_name",
        "organization_subscription_plan",
        "project_id",
        "project_name",
        "expires_at",
        "spending_cap_reached_at",
        "billing_cycle_start",
        "billing_cycle_end",
        "organization_analytics_enabled",
        "owner_user_id",
    }
    assert info["expires_at"] is None
    assert seeded_server.token not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer"},
        {"Authorization": "pylf_v1_local_devtokenX"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/read-token-info"),
        ("GET", "/v1/schemas"),
        ("GET", "/v1/query?sql=select+1"),
        ("POST", "/v2/query"),
        ("GET", "/unknown"),
    ],
)
def test_missing_or_wrong_tokens_get_401(
    seeded_server: LocalServer, headers: dict, method: str, path: str
) -> None:
    response = httpx.request(method, f"{seeded_server.url}{path}", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid read token"}


def test_schemas(client: httpx.Client) -> None:
    response = client.get("/v1/schemas")
    assert response.status_code == 200 and response.json() == schemas_document()
    assert [t["name"] for t in response.json()["tables"]] == ["records", "metrics"]


#: Not-null columns of the production service's /v1/schemas (logfire-api.md).
PRODUCTION_NOT_NULL = {
    "records": {
        "created_at", "day", "end_timestamp", "kind", "level", "message", "project_id", "service_name",
        "span_id", "span_name", "start_timestamp", "trace_id",
    },
    "metrics": {"created_at", "day", "metric_name", "metric_type", "project_id", "service_name", "unit"},
}  # fmt: skip


def test_schemas_are_shaped_as_production(client: httpx.Client) -> None:
    tables = {t["name"]: t for t in client.get("/v1/schemas").json()["tables"]}
    assert set(tables) == {"records", "metrics"}
    assert (len(tables["records"]["schema"]), len(tables["metrics"]["schema"])) == (44, 41)
    for name, table in tables.items():
        columns = table["schema"]
        assert list(columns) == sorted(columns), "columns are listed alphabetically"
        assert {c for c, spec in columns.items() if not spec["nullable"]} == PRODUCTION_NOT_NULL[name]
        assert table["description"] == "" and all(spec["description"] == "" for spec in columns.values())
    assert tables["records"]["schema"]["tags"]["data_type"] == "TEXT[]"
    assert {"attributes_json_schema", "exp_histogram_scale"} <= set(tables["metrics"]["schema"])


@pytest.mark.parametrize("version", [1, 2])
def test_an_empty_window_answers_columns_and_no_rows(client: httpx.Client, version: int) -> None:
    """min_timestamp == max_timestamp is not an error: the columns, no rows (as recorded)."""
    sql = "SELECT start_timestamp, message FROM records"
    if version == 2:
        body = {"sql": sql, "min_timestamp": T0.isoformat(), "max_timestamp": T0.isoformat()}
        response = v2(client, body)
        assert response.status_code == 200
        assert [f["name"] for f in response.json()["schema"]["fields"]] == ["start_timestamp", "message"]
        assert response.json()["data"] == []
    else:
        response = v1(client, sql, min_timestamp=T0.isoformat(), max_timestamp=T0.isoformat())
        assert response.status_code == 200
        assert [(c["name"], c["values"]) for c in response.json()["columns"]] == [
            ("start_timestamp", []),
            ("message", []),
        ]


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert client.get("/v3/query").status_code == 404
    assert client.get("/v3/query").json() == {"detail": "Not Found"}
    assert client.post("/v1/query").status_code == 405
    assert client.get("/v2/query").status_code == 405


# -- formats -------------------------------------------------------------------------------


def test_v1_json_is_column_oriented_by_default(client: httpx.Client) -> None:
    response = v1(client, ORDERED, **WINDOW_PARAMS)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    columns = response.json()["columns"]
    assert [c["name"] for c in columns] == [f["name"] for f in EXPECTED_V2_FIELDS]
    by_name = {c["name"]: c for c in columns}
    assert by_name["message"] == {
        "name": "message",
        "datatype": "Utf8",
        "nullable": False,
        "values": IN_WINDOW,
    }
    assert by_name["tags"]["datatype"] == {"List": {"name": "item", "datatype": "Utf8", "nullable": True}}
    assert by_name["start_timestamp"]["values"][0] == FIRST_ROW["start_timestamp"]


@pytest.mark.parametrize("flag", ["row_oriented", "json_rows"])
def test_v1_json_row_oriented(client: httpx.Client, flag: str) -> None:
    body = v1(client, ORDERED, **WINDOW_PARAMS, **{flag: "true"}).json()
    assert set(body) == {"columns", "rows"}
    assert body["columns"][0] == {
        "name": "start_timestamp",
        "datatype": {"Timestamp": ["Microsecond", "UTC"]},
        "nullable": False,
    }
    assert all("values" not in c for c in body["columns"])
    assert body["rows"][0] == FIRST_ROW
    assert [r["message"] for r in body["rows"]] == IN_WINDOW


def test_v2_json(client: httpx.Client) -> None:
    response = v2(client, window_body(ORDERED))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["schema"] == {"fields": EXPECTED_V2_FIELDS, "metadata": {}}
    assert body["data"][0] == FIRST_ROW
    assert [r["message"] for r in body["data"]] == IN_WINDOW


def test_v2_json_without_schema(client: httpx.Client) -> None:
    body = v2(client, window_body(ORDERED, include_schema=False)).json()
    assert list(body) == ["data"] and len(body["data"]) == len(IN_WINDOW)


def test_v2_ndjson(client: httpx.Client) -> None:
    response = v2(client, window_body(ORDERED), accept="application/x-ndjson")
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0] == {"type": "schema", "fields": EXPECTED_V2_FIELDS, "metadata": {}}
    assert [line["type"] for line in lines[1:-1]] == ["data"] * (len(lines) - 2)
    rows = [row for line in lines[1:-1] for row in line["rows"]]
    assert rows[0] == FIRST_ROW and [r["message"] for r in rows] == IN_WINDOW
    assert lines[-1] == {"type": "end", "row_count": len(IN_WINDOW)}


def test_v2_ndjson_streams_one_data_line_per_batch(client: httpx.Client) -> None:
    response = v2(
        client, window_body("SELECT * FROM range(10000)", limit=10_000), accept="application/x-ndjson"
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    data = [line for line in lines if line["type"] == "data"]
    assert len(data) > 1 and sum(len(d["rows"]) for d in data) == 10_000
    assert lines[-1] == {"type": "end", "row_count": 10_000}


def test_v2_ndjson_reports_a_late_failure_as_an_error_line(client: httpx.Client) -> None:
    # DataFusion computes batches as they are pulled, so row 9,500 fails only after the first
    # batch has been sent: the failure happens inside the 200 answer.
    sql = (
        "SELECT value AS x, repeat('x', 3000) AS pad, "
        "CAST(CASE WHEN value >= 9500 THEN 'late failure' END AS INT) AS boom FROM range(10000)"
    )
    response = v2(client, window_body(sql, limit=10_000), accept="application/x-ndjson")
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["type"] == "schema" and lines[1]["type"] == "data"
    assert lines[-1]["type"] == "error" and "late failure" in lines[-1]["message"]
    assert all(line["type"] != "end" for line in lines)


def test_a_late_failure_cuts_a_json_answer_short(client: httpx.Client) -> None:
    sql = (
        "SELECT value AS x, repeat('x', 3000) AS pad, "
        "CAST(CASE WHEN value >= 9500 THEN 'late failure' END AS INT) AS boom FROM range(10000)"
    )
    with pytest.raises(httpx.RemoteProtocolError):
        v2(client, window_body(sql, limit=10_000))


@pytest.mark.parametrize("version", [1, 2])
def test_csv(client: httpx.Client, version: int) -> None:
    accept = "text/csv, application/problem+json;q=0.9"
    response = (
        v1(client, ORDERED, accept, **WINDOW_PARAMS)
        if version == 1
        else v2(client, window_body(ORDERED), accept)
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == [f["name"] for f in EXPECTED_V2_FIELDS]
    assert table[1] == [
        "2026-11-27T00:00:00.000000Z",
        "at-min",
        "9",
        '["seed","at-min"]',
        "false",
        '{"n": 1}',
        "2026-11-27",
        "0.005",
    ]
    assert [row[1] for row in table[1:]] == IN_WINDOW


@pytest.mark.parametrize("version", [1, 2])
def test_arrow_stream(client: httpx.Client, version: int) -> None:
    response = (
        v1(client, ORDERED, ARROW, **WINDOW_PARAMS)
        if version == 1
        else v2(client, window_body(ORDERED), ARROW)
    )
    assert response.status_code == 200 and response.headers["content-type"] == ARROW
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.column("message").to_pylist() == IN_WINDOW
    assert table.schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert table.schema.field("tags").type == pa.list_(pa.field("item", pa.string()))
    assert table.schema.field("level").type == pa.int32()


def test_arrow_stream_of_an_empty_result_keeps_its_schema(client: httpx.Client) -> None:
    response = v2(client, window_body("SELECT message, level FROM records WHERE false"), ARROW)
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.num_rows == 0 and table.schema.names == ["message", "level"]


def test_unsupported_accept_gets_406(client: httpx.Client) -> None:
    response = v1(client, "SELECT 1", accept="text/html")
    assert response.status_code == 406 and "text/csv" in response.json()["detail"]
    assert v1(client, "SELECT 1", accept="application/x-ndjson").status_code == 406  # v2 only


# -- windows, environments, time zones -----------------------------------------------------


def test_v1_window_is_half_open(client: httpx.Client) -> None:
    body = v1(client, ORDERED, json_rows="true", **WINDOW_PARAMS).json()
    assert [r["message"] for r in body["rows"]] == IN_WINDOW
    everything = v1(client, ORDERED, json_rows="true").json()
    assert len(everything["rows"]) == len(IN_WINDOW) + 2


def test_v2_window_is_half_open_for_metrics(client: httpx.Client) -> None:
    body = v2(client, window_body("SELECT scalar_value FROM metrics ORDER BY recorded_timestamp")).json()
    assert [r["scalar_value"] for r in body["data"]] == [2.0, 3.0]


def test_naive_timestamps_are_utc(client: httpx.Client) -> None:
    body = v2(
        client,
        {"sql": ORDERED, "min_timestamp": "2026-11-27T00:00:00", "max_timestamp": "2026-11-28T00:00:00"},
    ).json()
    assert [r["message"] for r in body["data"]] == IN_WINDOW


@pytest.mark.parametrize(
    ("environments", "expected"),
    [(["prod"], ["at-min"]), ([""], ["no-environment", "empty-environment"]), (["dev", ""], IN_WINDOW[1:])],
)
def test_environment_filter(client: httpx.Client, environments: list[str], expected: list[str]) -> None:
    body = v2(client, window_body(ORDERED, deployment_environment=environments)).json()
    assert [r["message"] for r in body["data"]] == expected


def test_time_zone(client: httpx.Client) -> None:
    # The session time zone is what TIMESTAMPTZ means in the query (DataFusion semantics).
    sql = (
        "SELECT to_char(CAST(start_timestamp AS TIMESTAMPTZ), '%H') AS hour FROM records "
        "ORDER BY start_timestamp LIMIT 1"
    )
    assert v2(client, window_body(sql, timezone="Asia/Tokyo")).json()["data"] == [{"hour": "09"}]
    assert v2(client, window_body(sql)).json()["data"] == [{"hour": "00"}]


# -- limits and invalid requests -----------------------------------------------------------


def test_default_limits(client: httpx.Client) -> None:
    assert len(v1(client, "SELECT * FROM range(20000)", json_rows="true").json()["rows"]) == 500
    assert len(v2(client, window_body("SELECT * FROM range(20000)")).json()["data"]) == 100


def test_the_maximum_limit(client: httpx.Client) -> None:
    assert (
        len(v1(client, "SELECT * FROM range(20000)", json_rows="true", limit=10_000).json()["rows"]) == 10_000
    )
    assert len(v2(client, window_body("SELECT * FROM range(20000)", limit=10_000)).json()["data"]) == 10_000


@pytest.mark.parametrize(
    ("limit", "kind"), [(10_001, "less_than_equal"), (0, "greater_than_equal"), ("many", "int_parsing")]
)
def test_limits_out_of_range_get_422(client: httpx.Client, limit: object, kind: str) -> None:
    for response, where in (
        (v1(client, "SELECT 1", limit=limit), "query"),
        (v2(client, window_body("SELECT 1", limit=limit)), "body"),
    ):
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == [where, "limit"] and error["type"] == kind and error["msg"]


def test_invalid_v1_requests_get_422(client: httpx.Client) -> None:
    missing = client.get("/v1/query")
    assert missing.status_code == 422
    assert missing.json()["detail"] == [{"type": "missing", "loc": ["query", "sql"], "msg": "Field required"}]
    bad_time = v1(client, "SELECT 1", min_timestamp="yesterday")
    assert bad_time.status_code == 422 and bad_time.json()["detail"][0]["loc"] == ["query", "min_timestamp"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"min_timestamp": T0.isoformat()}, ["body", "sql"]),
        ({"sql": "SELECT 1"}, ["body", "min_timestamp"]),
        ({"sql": "SELECT 1", "min_timestamp": "27/11/2026"}, ["body", "min_timestamp"]),
        (
            {"sql": "SELECT 1", "min_timestamp": T0.isoformat(), "deployment_environment": "prod"},
            ["body", "deployment_environment"],
        ),
        ({"sql": "SELECT 1", "min_timestamp": T0.isoformat(), "timezone": "Mars/Base"}, ["body", "timezone"]),
        ({"sql": "SELECT 1", "min_timestamp": T0.isoformat(), "explain": True}, ["body", "explain"]),
    ],
)
def test_invalid_v2_requests_get_422(client: httpx.Client, body: dict, loc: list[str]) -> None:
    response = v2(client, body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
def test_bodies_that_are_not_json_objects_get_422(client: httpx.Client, content: bytes) -> None:
    response = client.post("/v2/query", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_explain_comes_as_an_ndjson_line(client: httpx.Client) -> None:
    response = v2(
        client,
        window_body("SELECT message FROM records WHERE level > 10", explain=True),
        "application/x-ndjson",
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["type"] for line in lines[:2]] == ["schema", "explain"]
    assert "records.level > Int32(10)" in lines[1]["plan"]
    assert lines[-1] == {"type": "end", "row_count": 2}


# -- refused and failing queries -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
        ("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'", "CREATE"),
        ("INSERT INTO records (message) VALUES ('x')", "INSERT"),
        ("SET threads = 1", "SET"),
        ("PRAGMA version", "PRAGMA"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("DELETE FROM records", "DELETE"),
        ("DROP TABLE records", "DROP"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("", "empty"),
    ],
)
def test_refused_statements_get_400_saying_why(client: httpx.Client, sql: str, named: str) -> None:
    for response in (v1(client, sql), v2(client, window_body(sql))):
        assert response.status_code == 400
        detail = response.json()["detail"]
        assert detail.startswith("Only one SELECT statement is allowed; ") and named in detail


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM glob('/*')",
    ],
)
def test_file_table_functions_get_400(client: httpx.Client, sql: str) -> None:
    response = v2(client, window_body(sql))
    assert response.status_code == 400 and "not found" in response.json()["detail"]


def test_a_file_path_as_a_table_gets_400(client: httpx.Client) -> None:
    response = v2(client, window_body("SELECT * FROM '/etc/passwd'"))
    assert response.status_code == 400
    assert "'/etc/passwd' is not a table: the query API does not read files" in response.json()["detail"]


def test_parse_errors_show_datafusions_message(client: httpx.Client) -> None:
    response = v2(client, window_body("SELEC message FROM records"))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        'SQL error: ParserError("Expected: an SQL statement, found: SELEC'
    )


def test_planning_errors_show_datafusions_message(client: httpx.Client) -> None:
    response = v1(client, "SELECT no_such_column FROM records")
    assert response.status_code == 400
    assert "No field named no_such_column" in response.json()["detail"]


def test_query_timeout_over_http() -> None:
    with LocalEngine(query_timeout=0.3) as engine, run_local_server(engine) as server:
        started = time.monotonic()
        response = httpx.get(
            f"{server.url}/v1/query",
            params={"sql": "SELECT count(*) FROM range(1000000000000)"},
            headers={"Authorization": server.token},
        )
        assert time.monotonic() - started < 5
    assert response.status_code == 400 and "time limit" in response.json()["detail"]


# -- transport -----------------------------------------------------------------------------


def test_gzip_when_asked(client: httpx.Client) -> None:
    sql = "SELECT * FROM range(5000)"
    request = client.build_request("GET", "/v1/query", params={"sql": sql, "limit": 5000})
    request.headers["Accept-Encoding"] = "gzip"
    response = client.send(request, stream=True)
    raw = b"".join(response.iter_raw())
    response.close()
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["columns"][0]["values"][:3] == [0, 1, 2]

    request.headers["Accept-Encoding"] = "identity"
    plain = client.send(request)
    assert "content-encoding" not in plain.headers and plain.json()["columns"][0]["values"][-1] == 4999


def test_no_gzip_server_never_compresses() -> None:
    with run_local_server(gzip=False) as server:
        response = httpx.get(
            f"{server.url}/v1/query",
            params={"sql": "SELECT * FROM range(5000)", "limit": 5000},
            headers={"Authorization": server.token, "Accept-Encoding": "gzip"},
        )
    assert response.status_code == 200 and "content-encoding" not in response.headers


def test_latency_is_added_before_answers_but_not_to_health() -> None:
    with run_local_server(latency_ms=300) as server:
        began = time.monotonic()
        httpx.get(f"{server.url}/health")
        health = time.monotonic() - began
        began = time.monotonic()
        response = httpx.get(f"{server.url}/v1/read-token-info", headers={"Authorization": server.token})
        answered = time.monotonic() - began
    assert response.status_code == 200
    assert answered >= 0.3 > health


def test_concurrent_requests(seeded_server: LocalServer) -> None:
    def ask(hour: int) -> list[str]:
        body = {
            "sql": ORDERED,
            "min_timestamp": f"2026-11-27T0{hour}:00:00Z",
            "max_timestamp": T1.isoformat(),
        }
        response = httpx.post(
            f"{seeded_server.url}/v2/query",
            json=body,
            headers={"Authorization": seeded_server.token},
            timeout=30,
        )
        return [r["message"] for r in response.json()["data"]]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, [0, 1, 2, 3] * 4))
    assert answers[:4] == [IN_WINDOW, IN_WINDOW[1:], IN_WINDOW[2:], IN_WINDOW[3:]]
    assert answers[4:] == answers[:4] * 3


def test_custom_names_in_token_info() -> None:
    with run_local_server(
        token="pylf_v1_local_secret", organization_name="acme", project_name="shop"
    ) as server:
        info = httpx.get(f"{server.url}/v1/read-token-info", headers={"Authorization": server.token}).json()
        assert (info["organization_name"], info["project_name"]) == ("acme", "shop")
        assert "pylf_v1_local_secret" not in repr(server)


def test_an_unencoded_plus_in_a_v1_offset_still_means_plus(client: httpx.Client) -> None:
    # 2026-11-27T01:00:00+01:00 is T0; a hand-written URL sends its `+` as a space.
    sql = "SELECT message FROM records ORDER BY start_timestamp"
    response = client.get(
        f"/v1/query?sql={sql.replace(' ', '%20')}&json_rows=true&min_timestamp=2026-11-27T01:00:00+01:00"
    )
    assert response.status_code == 200
    assert [r["message"] for r in response.json()["rows"]] == [*IN_WINDOW, "at-max"]


def test_every_request_releases_its_query() -> None:
    """Each query's time budget is a timer thread; one left running means a query left open."""
    sql = {"sql": "SELECT 1 AS one", "json_rows": "true"}
    with run_local_server() as server:
        headers = {"Authorization": server.token}
        assert httpx.get(f"{server.url}/v1/query", params=sql, headers=headers).status_code == 200
        baseline = _open_queries()
        with httpx.Client(base_url=server.url, headers=headers) as http:
            http.get("/v1/query", params={"sql": "SELECT * FROM range(100)"})
            http.get("/v1/query", params={"sql": "SELECT no_such_column"})
            http.get("/v1/query", params={"sql": "SELECT * FROM range(100)"}, headers={"Accept": ARROW})
            # A client that walks away in the middle of a large streamed answer.
            body = {
                "sql": "SELECT value AS x, repeat('x', 3000) AS pad FROM range(10000)",
                "min_timestamp": T0.isoformat(),
                "limit": 10_000,
            }
            with http.stream(
                "POST", "/v2/query", json=body, headers={"Accept": "application/x-ndjson"}
            ) as response:
                next(response.iter_bytes())
        deadline = time.monotonic() + 5
        while (current := _open_queries()) > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        assert current == baseline == 0


def _open_queries() -> int:
    return sum(thread.name == QUERY_BUDGET_THREAD for thread in threading.enumerate())
