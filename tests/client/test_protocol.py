"""Request building and error mapping: pure functions shared by both clients."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_logfire.client import (
    ClientSettings,
    LogfireAuthError,
    LogfireBadRequestError,
    LogfireConfigError,
    LogfireQueryError,
    LogfireRateLimitError,
    LogfireServerError,
    QueryParams,
    ResultFormat,
)
from airflow_provider_logfire.client.protocol import (
    build_query_request,
    error_from_response,
    parse_json_result,
)

TOKEN = "pylf_v1_us_T0KEN"
V2 = ClientSettings(token=TOKEN)
V1 = ClientSettings(token=TOKEN, api_version="v1")


def test_v2_body_has_utc_bounds_and_options():
    naive = datetime(2026, 11, 27)
    paris = datetime(2026, 11, 28, 1, tzinfo=timezone(timedelta(hours=1)))
    params = QueryParams("select 1", naive, paris, limit=10, timezone="Europe/Paris", environment="prod")
    request = build_query_request(V2, params, ResultFormat.ARROW)
    assert (request.method, request.path) == ("POST", "/v2/query")
    assert request.json == {
        "sql": "select 1",
        "min_timestamp": "2026-11-27T00:00:00.000000+00:00",
        "max_timestamp": "2026-11-28T00:00:00.000000+00:00",
        "include_schema": True,
        "limit": 10,
        "timezone": "Europe/Paris",
        "deployment_environment": ["prod"],
    }
    assert request.headers["Accept"] == "application/vnd.apache.arrow.stream"


def test_v1_query_string_and_row_orientation():
    params = QueryParams("select 1", datetime(2026, 1, 1, tzinfo=timezone.utc), limit=5)
    request = build_query_request(V1, params, ResultFormat.JSON_ROWS)
    assert (request.method, request.path) == ("GET", "/v1/query")
    assert request.params == {
        "sql": "select 1",
        "min_timestamp": "2026-01-01T00:00:00.000000+00:00",
        "limit": "5",
        "row_oriented": "true",
        "json_rows": "true",
    }


@pytest.mark.parametrize("option", [{"timezone": "UTC"}, {"environment": ["prod"]}])
def test_v1_refuses_v2_only_options(option):
    with pytest.raises(LogfireConfigError, match="needs? the v2 query API"):
        build_query_request(V1, QueryParams("select 1", **option), ResultFormat.JSON)


@pytest.mark.parametrize("limit", [0, -1, 10_001, 2.5, True])
def test_limit_checked_before_sending(limit):
    with pytest.raises(LogfireConfigError, match=r"limit must be an integer from 1 to 10,000"):
        QueryParams("select 1", limit=limit)


def test_empty_sql_and_inverted_window():
    with pytest.raises(LogfireConfigError, match="SQL query is empty"):
        QueryParams("   ")
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(LogfireConfigError, match="must not be later than max_timestamp"):
        QueryParams("select 1", t + timedelta(microseconds=1), t)


@pytest.mark.parametrize("settings", [V2, V1], ids=["v2", "v1"])
def test_zero_width_window_is_sent_not_refused(settings):
    """Logfire answers min_timestamp == max_timestamp with the columns and no rows."""
    t = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    paris = t.astimezone(timezone(timedelta(hours=1)))
    request = build_query_request(settings, QueryParams("select 1", t, paris), ResultFormat.ARROW)
    sent = request.json if settings is V2 else request.params
    assert sent["min_timestamp"] == sent["max_timestamp"] == "2026-01-01T12:00:00.000000+00:00"


@pytest.mark.parametrize(
    ("settings", "fmt"),
    [(V2, fmt) for fmt in ResultFormat]
    + [(V1, fmt) for fmt in ResultFormat if fmt is not ResultFormat.NDJSON],
)
def test_accept_names_exactly_one_media_type(settings, fmt):
    request = build_query_request(settings, QueryParams("select 1"), fmt)
    assert request.headers["Accept"] == fmt.media_type
    assert "," not in request.headers["Accept"] and ";" not in request.headers["Accept"]


def _error(status, body=b"", headers=None, settings=V2):
    request = build_query_request(settings, QueryParams("select 1"), ResultFormat.JSON)
    return error_from_response(settings, request, status, headers or {}, body)


def test_400_carries_the_server_message():
    err = _error(
        400, b'{"detail": "Schema error: No field named nope"}', {"content-type": "application/json"}
    )
    assert isinstance(err, LogfireQueryError)
    assert "No field named nope" in str(err) and err.status_code == 400


def test_422_flattens_validation_items():
    body = b'{"detail": [{"loc": ["query", "limit"], "msg": "must be <= 10000", "type": "x"}]}'
    err = _error(422, body, {"content-type": "application/json"})
    assert isinstance(err, LogfireBadRequestError)
    assert "limit: must be <= 10000" in str(err)


def test_401_hints_at_region_and_scrubs_token():
    settings = ClientSettings(token="pylf_v1_eu_T0KEN", region="us", source="connection 'lf'")
    err = _error(
        401, b'{"detail": "Invalid token pylf_v1_eu_T0KEN"}', {"content-type": "application/json"}, settings
    )
    assert isinstance(err, LogfireAuthError)
    assert "connection 'lf'" in str(err) and "EU token" in str(err)
    assert "T0KEN" not in str(err) and "T0KEN" not in repr(err)


def test_429_retry_after_header_and_problem_json():
    err = _error(429, b"", {"retry-after": "7"})
    assert isinstance(err, LogfireRateLimitError) and err.retry_after == 7 and err.retryable
    problem = _error(
        429, b'{"retryable": true, "retry_after": 2.5}', {"content-type": "application/problem+json"}
    )
    assert problem.retry_after == 2.5


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/plain"}, {"content-type": "application/problem+json"}],
    ids=["no content-type", "mislabelled", "problem+json"],
)
def test_json_error_detail_is_found_whatever_the_content_type(headers):
    err = _error(400, b'{"detail": "Schema error: No field named nope"}', headers)
    assert isinstance(err, LogfireQueryError) and str(err).endswith("No field named nope")


def test_error_body_that_claims_json_but_is_not_is_quoted_as_text():
    err = _error(503, b"{upstream\n  timed out", {"content-type": "application/json"})
    assert isinstance(err, LogfireServerError) and "{upstream timed out" in str(err)


def test_5xx_with_html_body_is_a_server_error():
    err = _error(502, b"<html><body>Bad gateway</body></html>", {"content-type": "text/html"})
    assert isinstance(err, LogfireServerError) and err.retryable and "Bad gateway" in str(err)


def test_json_normalisation_v1_columns_and_v2_rows_agree():
    v1 = {"columns": [{"name": "a", "datatype": "Int64", "nullable": False, "values": [1, 2]}]}
    v2 = {
        "schema": {
            "fields": [{"name": "a", "data_type": "Int64", "nullable": False, "dict_id": 0}],
            "metadata": {},
        },
        "data": [{"a": 1}, {"a": 2}],
    }
    for fmt in (ResultFormat.JSON, ResultFormat.JSON_ROWS):
        assert parse_json_result(v1, fmt) == parse_json_result(v2, fmt)
    assert parse_json_result(v2, ResultFormat.JSON_ROWS)["rows"] == [{"a": 1}, {"a": 2}]


def test_nested_data_type_renamed():
    v2 = {
        "schema": {
            "fields": [
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
                }
            ]
        },
        "data": [],
    }
    column = parse_json_result(v2, ResultFormat.JSON)["columns"][0]
    assert column["datatype"] == {"List": {"name": "item", "datatype": "Utf8", "nullable": True}}
