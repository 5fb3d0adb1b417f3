"""The client against the local server over loopback HTTP: every format on both API versions."""

from __future__ import annotations

import csv
import io
import logging

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.client import (
    LogfireAuthError,
    LogfireBadRequestError,
    LogfireClient,
    LogfireConfigError,
    LogfireQueryError,
)

VERSIONS = ["v2", "v1"]
SERVICES_SQL = "SELECT service_name, count(*) AS n FROM records GROUP BY 1 ORDER BY 1"


def client(server, version="v2", **settings) -> LogfireClient:
    return LogfireClient.from_token(server.token, base_url=server.url, api_version=version, **settings)


def expected_services(server, day) -> list[dict]:
    """The same aggregate computed by the engine directly (not over HTTP)."""
    with server.engine.query(SERVICES_SQL, **day) as result:
        table = pa.Table.from_batches(list(result))
    return table.to_pylist()


@pytest.mark.parametrize("version", VERSIONS)
def test_info(server, version):
    assert client(server, version).info() == {"organization_name": "local", "project_name": "demo"}


@pytest.mark.parametrize("version", VERSIONS)
def test_json_rows_and_columns_agree_with_the_engine(server, day, dataset, version):
    expected = expected_services(server, day)
    with client(server, version) as c:
        rows = c.query_json_rows(SERVICES_SQL, **day)
        columns = c.query_json(SERVICES_SQL, **day)
    assert rows["rows"] == expected
    assert [col["name"] for col in rows["columns"]] == ["service_name", "n"]
    assert rows["columns"][1]["datatype"] == "Int64"
    by_name = {col["name"]: col["values"] for col in columns["columns"]}
    assert by_name == {"service_name": [r["service_name"] for r in expected], "n": [r["n"] for r in expected]}
    assert sum(by_name["n"]) == dataset.rows_per_day


@pytest.mark.parametrize("version", VERSIONS)
def test_nested_types_decoded(server, day, version):
    with client(server, version) as c:
        result = c.query_json(
            "SELECT start_timestamp, tags, attributes FROM records WHERE tags IS NOT NULL", limit=5, **day
        )
    types = {col["name"]: col["datatype"] for col in result["columns"]}
    assert types["start_timestamp"] == {"Timestamp": ["Microsecond", "UTC"]}
    assert types["tags"]["List"]["datatype"] == "Utf8"
    first = {col["name"]: col["values"][0] for col in result["columns"]}
    assert isinstance(first["tags"], list)
    assert first["start_timestamp"].startswith("2026-11-26T")
    assert isinstance(first["attributes"], str)


@pytest.mark.parametrize("version", VERSIONS)
def test_arrow_table_and_streamed_batches(server, day, version):
    sql = "SELECT * FROM records ORDER BY start_timestamp"
    with client(server, version) as c:
        table = c.query_arrow(sql, limit=10_000, **day)
        batches = list(c.iter_batches(sql, limit=10_000, **day))
    assert table.num_rows == 10_000
    assert table.schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert len(batches) > 1, "a 10,000-row answer should arrive as several batches"
    assert pa.Table.from_batches(batches).equals(table)
    starts = table["start_timestamp"].to_pylist()
    assert min(starts) >= day["min_timestamp"]
    assert max(starts) < day["max_timestamp"]


@pytest.mark.parametrize("version", VERSIONS)
def test_csv_text_and_streamed_file(server, day, version, tmp_path):
    sql = "SELECT span_name, level, is_exception, exception_stacktrace FROM records ORDER BY start_timestamp"
    with client(server, version) as c:
        text = c.query_csv(sql, limit=2000, **day)
        written = c.query_csv_to_file(sql, tmp_path / "out" / "rows.csv", limit=2000, **day)
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 2000
    assert {r["is_exception"] for r in records} <= {"true", "false"}
    assert (tmp_path / "out" / "rows.csv").read_text() == text
    assert written == len(text.encode())
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["rows.csv"]


def test_ndjson_rows_streamed(server, day):
    with client(server) as c:
        rows = list(
            c.iter_rows("SELECT span_id, level FROM records ORDER BY start_timestamp", limit=7000, **day)
        )
    assert len(rows) == 7000
    assert set(rows[0]) == {"span_id", "level"}


def test_ndjson_error_in_the_middle_of_the_stream_raises(server, day):
    # The local engine computes batches as they are pulled, so row 9,500 fails only after the 200
    # and a first batch went out.
    sql = (
        "SELECT value AS i, repeat('x', 3000) AS pad, "
        "CAST(CASE WHEN value >= 9500 THEN 'boom at row ' || value END AS INT) AS v FROM range(10000)"
    )
    with client(server) as c:
        rows = c.iter_rows(sql, limit=10_000, **day)
        with pytest.raises(LogfireQueryError, match="boom at row") as info:
            list(rows)
    assert "while streaming results" in str(info.value)


def test_v2_options_environment_and_timezone(server, day):
    with client(server) as c:
        prod = c.query_json_rows(
            "SELECT DISTINCT deployment_environment AS e FROM records", environment="prod", **day
        )
        local = c.query_json_rows(
            "SELECT to_char(CAST(start_timestamp AS TIMESTAMPTZ), '%:z') AS z FROM records",
            limit=1,
            timezone="Asia/Kolkata",
            **day,
        )
    assert [r["e"] for r in prod["rows"]] == ["prod"]
    assert local["rows"][0]["z"] == "+05:30"


def test_default_environment_from_settings(server, day):
    with client(server, environment=("staging",)) as c:
        rows = c.query_json_rows("SELECT DISTINCT deployment_environment AS e FROM records", **day)["rows"]
    assert [r["e"] for r in rows] == ["staging"]


def test_gzip_bodies_are_decoded(server, day):
    raw = httpx.post(
        f"{server.url}/v2/query",
        json={
            "sql": "SELECT * FROM records",
            "min_timestamp": day["min_timestamp"].isoformat(),
            "limit": 2000,
        },
        headers={"Authorization": server.token, "Accept": "text/csv", "Accept-Encoding": "gzip"},
    )
    assert raw.headers.get("content-encoding") == "gzip"
    with client(server) as c:
        text = c.query_csv("SELECT * FROM records", min_timestamp=day["min_timestamp"], limit=2000)
    assert text == raw.text


@pytest.mark.parametrize("version", VERSIONS)
def test_zero_width_window_has_columns_and_no_rows(server, day, version):
    """min_timestamp == max_timestamp is sent, not refused; the answer is empty but typed."""
    noon = day["min_timestamp"] + (day["max_timestamp"] - day["min_timestamp"]) / 2
    sql = "SELECT start_timestamp, span_name, level FROM records"
    with client(server, version) as c:
        table = c.query_arrow(sql, min_timestamp=noon, max_timestamp=noon)
        rows = c.query_json_rows(sql, min_timestamp=noon, max_timestamp=noon)
        csv_text = c.query_csv(sql, min_timestamp=noon, max_timestamp=noon)
        around = c.query_json_rows(
            "SELECT count(*) AS n FROM records", min_timestamp=noon, max_timestamp=day["max_timestamp"]
        )
    assert table.num_rows == 0 and table.schema.names == ["start_timestamp", "span_name", "level"]
    assert table.schema.field("start_timestamp").type == pa.timestamp("us", "UTC")
    assert rows["rows"] == [] and [col["name"] for col in rows["columns"]] == table.schema.names
    assert list(csv.reader(io.StringIO(csv_text))) == [table.schema.names], "the header line alone"
    assert around["rows"][0]["n"] > 0, "the instant itself holds data, so emptiness comes from the window"


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_sql_shows_the_servers_message(server, day, version):
    with (
        client(server, version) as c,
        pytest.raises(LogfireQueryError, match="No field named no_such_column") as info,
    ):
        c.query_json_rows("SELECT no_such_column FROM records", **day)
    assert info.value.status_code == 400


def test_limit_over_the_maximum_is_refused_before_sending(server):
    with client(server) as c, pytest.raises(LogfireConfigError, match="from 1 to 10,000"):
        c.query_arrow("SELECT 1", limit=10_001)


def test_server_side_422_is_a_bad_request(server):
    # The client refuses bad limits itself; reach the server's own validation with a raw timestamp.
    with client(server, "v1") as c:
        c._http.params = httpx.QueryParams({"min_timestamp": "not-a-time"})
        with pytest.raises(LogfireBadRequestError, match="min_timestamp"):
            c.query_json("SELECT 1")


def test_wrong_token_and_no_leak_anywhere(server, day, dataset, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "pylf_v1_eu_WRONGtokenABC123"
    with LogfireClient.from_token(wrong, base_url=server.url) as c, pytest.raises(LogfireAuthError) as info:
        c.query_json_rows("SELECT 1", **day)
    with client(server) as c:
        c.query_json_rows(SERVICES_SQL, **day)
        with pytest.raises(LogfireQueryError):
            c.query_json_rows("SELECT broken(", **day)
    assert info.value.status_code == 401
    for secret in (wrong, dataset.token):
        assert secret not in str(info.value)
        assert secret not in repr(info.value)
        assert secret not in caplog.text
        assert secret not in repr(c)


def test_eu_token_against_the_us_host_hints_at_the_region():
    """The real US host refuses an EU token; reproduced locally by pointing region=us at a 401."""
    from airflow_provider_logfire.client.protocol import RequestSpec, error_from_response
    from airflow_provider_logfire.client.settings import ClientSettings

    settings = ClientSettings(token="pylf_v1_eu_abc", region="us")
    error = error_from_response(
        settings, RequestSpec("POST", "/v2/query"), 401, {}, b'{"detail": "Invalid token"}'
    )
    assert "EU token" in str(error)
    assert "https://logfire-us.pydantic.dev" in str(error)
