"""Connection fields → ClientSettings: the pure mapping that the hook uses, tested without Airflow."""

from __future__ import annotations

import pytest

from airflow_provider_logfire.client import LogfireConfigError
from airflow_provider_logfire.client.connection import parse_bool, settings_from_connection


def test_fields_and_extras():
    settings = settings_from_connection(
        "lf_eu",
        host=None,
        password=" pylf_v1_eu_abc ",
        extra={"api_version": "V1", "timeout": "12", "environment": "prod, staging", "region": " EU "},
    )
    assert settings.token == "pylf_v1_eu_abc"
    assert settings.resolved_base_url == "https://logfire-eu.pydantic.dev"
    assert (settings.api_version, settings.region, settings.timeout) == ("v1", "eu", 12.0)
    assert settings.environment == ("prod", "staging")
    assert settings.allow_insecure_http is False
    assert settings.source == "connection 'lf_eu'"


def test_defaults_when_extras_are_missing_or_empty():
    for extra in (None, {}, {"region": "", "api_version": "", "timeout": "", "environment": ""}):
        settings = settings_from_connection("lf", host="  ", password="pylf_v1_us_x", extra=extra)
        assert (settings.base_url, settings.region, settings.api_version) == (None, "auto", "v2")
        assert settings.timeout == 60.0 and settings.environment == ()


def test_host_is_the_base_url_and_insecure_http_needs_the_flag():
    with pytest.raises(LogfireConfigError, match="plain HTTP to logfire.internal in connection 'lf_self'"):
        settings_from_connection("lf_self", host="http://logfire.internal", password="t", extra={})
    settings = settings_from_connection(
        "lf_self", host="http://logfire.internal/", password="t", extra={"allow_insecure_http": "yes"}
    )
    assert settings.resolved_base_url == "http://logfire.internal"


def test_prefixed_extras_from_older_forms():
    settings = settings_from_connection(
        "lf_form",
        host=None,
        password="t",
        extra={"extra__logfire__region": "eu", "extra__logfire__allow_insecure_http": True},
    )
    assert settings.resolved_base_url == "https://logfire-eu.pydantic.dev"
    assert settings.allow_insecure_http is True
    # The plain name wins over the prefixed one.
    both = settings_from_connection(
        "lf_form", host=None, password="t", extra={"region": "us", "extra__logfire__region": "eu"}
    )
    assert both.region == "us"


def test_missing_token_names_the_connection():
    for password in (None, "", "   "):
        with pytest.raises(LogfireConfigError, match="No Logfire read token in connection 'lf_empty'"):
            settings_from_connection(
                "lf_empty", host="https://logfire.example.com", password=password, extra={}
            )


def test_bad_timeout_names_the_connection_and_the_value():
    with pytest.raises(LogfireConfigError, match=r"timeout extra of connection 'lf_t' .* got 'soon'"):
        settings_from_connection("lf_t", host=None, password="t", extra={"timeout": "soon"})
    with pytest.raises(LogfireConfigError, match="must be a positive number"):
        settings_from_connection("lf_t", host=None, password="t", extra={"timeout": "-1"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        (" Yes ", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("no", False),
        ("", False),
        (True, True),
        (False, False),
        (0, False),
    ],
)
def test_parse_bool(value, expected):
    assert parse_bool(value) is expected


def test_token_not_in_repr():
    settings = settings_from_connection("lf", host=None, password="pylf_v1_us_SeCrEt", extra={})
    assert "SeCrEt" not in repr(settings)
