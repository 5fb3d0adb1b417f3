"""`LogfireProject`: the lineage namespace and the web UI page of a connection's project."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_logfire.client.connection import settings_from_connection, ui_url_from_extra
from airflow_provider_logfire.client.project import LogfireProject
from airflow_provider_logfire.exceptions import LogfireConfigError

INFO = {"organization_name": "acme", "project_name": "shop", "token_id": "t"}
START = datetime(2026, 11, 27, tzinfo=timezone.utc)
END = START + timedelta(days=1)
WINDOW = "since=2026-11-27T00%3A00%3A00Z&until=2026-11-28T00%3A00%3A00Z"


def project(token: str, host: str | None = None, info=INFO, **extra) -> LogfireProject:
    settings = settings_from_connection("c", host=host, password=token, extra=extra)
    return LogfireProject.of(settings, info, ui_url=ui_url_from_extra("c", extra))


@pytest.mark.parametrize(
    ("token", "host", "extra", "ui"),
    [
        ("pylf_v1_us_abc", None, {}, "https://logfire-us.pydantic.dev"),
        ("pylf_v1_eu_abc", None, {}, "https://logfire-eu.pydantic.dev"),
        ("pylf_v1_abc", None, {"region": "eu"}, "https://logfire-eu.pydantic.dev"),
        ("pylf_v1_us_abc", "https://logfire-eu.pydantic.dev", {}, "https://logfire-eu.pydantic.dev"),
        ("pylf_v1_us_abc", "https://logfire-api.pydantic.dev", {}, "https://logfire-us.pydantic.dev"),
    ],
    ids=["us-token", "eu-token", "eu-region", "eu-host", "legacy-us-host"],
)
def test_region_connections_link_to_their_regions_ui(token, host, extra, ui) -> None:
    found = project(token, host, **extra)
    assert found.url == f"{ui}/acme/shop"
    assert found.live_view_url(START, END) == f"{ui}/acme/shop?{WINDOW}"
    assert found.live_view_url(START, END, ["prod", ""]) == f"{ui}/acme/shop?{WINDOW}&env=prod&env="
    assert found.namespace == f"logfire://{ui.removeprefix('https://')}/acme/shop"


def test_local_and_self_hosted_servers_have_no_link_unless_ui_url_says_where() -> None:
    local = project("pylf_v1_us_abc", "http://127.0.0.1:8787")
    assert local.url is None and local.live_view_url(START, END) is None
    assert local.namespace == "logfire://127.0.0.1:8787/acme/shop"
    hosted = project("pylf_v1_us_abc", "https://logfire.internal.example", ui_url="logfire-ui.example/")
    assert hosted.url == "https://logfire-ui.example/acme/shop"
    assert hosted.namespace == "logfire://logfire.internal.example/acme/shop"


def test_unknown_names_give_the_host_namespace_and_no_link() -> None:
    unnamed = project("pylf_v1_eu_abc", info=None)
    assert unnamed.namespace == "logfire://logfire-eu.pydantic.dev"
    assert unnamed.url is None
    assert unnamed.table_uri("records") == "logfire://logfire-eu.pydantic.dev/records"


def test_names_are_quoted_and_the_token_is_nowhere() -> None:
    token = "pylf_v1_us_SeCrEtH5opTokenQ8wZr4"
    odd = project(token, info={"organization_name": "a b", "project_name": "x/y"})
    assert odd.url == "https://logfire-us.pydantic.dev/a%20b/x%2Fy"
    assert token not in repr(odd) and token not in odd.namespace


def test_a_bad_ui_url_names_the_connection() -> None:
    with pytest.raises(LogfireConfigError, match="ui_url extra of connection 'c'"):
        ui_url_from_extra("c", {"ui_url": "ftp://x"})
    assert ui_url_from_extra("c", {"extra__logfire__ui_url": "https://ui.example"}) == "https://ui.example"
    assert ui_url_from_extra("c", {"ui_url": ""}) is None
