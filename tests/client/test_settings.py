"""Base URL resolution and the rules that protect the token, before any request is sent."""

from __future__ import annotations

import pytest

from airflow_provider_logfire.client import ClientSettings, LogfireConfigError

US = "https://logfire-us.pydantic.dev"
EU = "https://logfire-eu.pydantic.dev"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"token": "pylf_v1_eu_abc"}, EU),
        ({"token": "pylf_v1_us_abc"}, US),
        ({"token": "legacy-token-without-region"}, US),
        ({"token": "pylf_v1_eu_abc", "region": "us"}, US),
        ({"token": "pylf_v1_us_abc", "base_url": "logfire.example.com/"}, "https://logfire.example.com"),
        ({"token": "pylf_v1_us_abc", "base_url": "http://127.0.0.1:8787/"}, "http://127.0.0.1:8787"),
        ({"token": "pylf_v1_us_abc", "base_url": "http://localhost:1"}, "http://localhost:1"),
        ({"token": "pylf_v1_us_abc", "base_url": "http://[::1]:1"}, "http://[::1]:1"),
    ],
)
def test_base_url_resolution_order(kwargs, expected):
    assert ClientSettings(**kwargs).resolved_base_url == expected


def test_missing_token_names_the_connection():
    with pytest.raises(LogfireConfigError, match="connection 'logfire_prod'.*password"):
        ClientSettings(token="  ", source="connection 'logfire_prod'")


def test_unknown_region_setting_lists_choices():
    with pytest.raises(LogfireConfigError, match=r"Unknown Logfire region 'ap'.*auto, us, eu"):
        ClientSettings(token="t", region="ap")


def test_unknown_region_in_token_asks_for_base_url():
    with pytest.raises(LogfireConfigError, match="region 'ap'.*base URL"):
        ClientSettings(token="pylf_v1_ap_secret")


def test_plain_http_refused_for_remote_host_unless_allowed():
    with pytest.raises(LogfireConfigError, match=r"plain HTTP to logfire\.internal"):
        ClientSettings(token="t", base_url="http://logfire.internal:8080")
    allowed = ClientSettings(token="t", base_url="http://logfire.internal:8080", allow_insecure_http=True)
    assert allowed.resolved_base_url == "http://logfire.internal:8080"


@pytest.mark.parametrize("url", ["ftp://x", "https://user:pw@host", "https://host/?token=1"])
def test_bad_base_urls(url):
    with pytest.raises(LogfireConfigError, match="base URL"):
        ClientSettings(token="t", base_url=url)


def test_token_never_in_repr():
    settings = ClientSettings(token="pylf_v1_us_SUPERSECRET")
    assert "SUPERSECRET" not in repr(settings)


def test_region_mismatch_hint():
    settings = ClientSettings(token="pylf_v1_eu_abc", region="us")
    hint = settings.region_mismatch_hint()
    assert hint is not None and "EU token" in hint and "US host" in hint
    assert ClientSettings(token="pylf_v1_eu_abc").region_mismatch_hint() is None
