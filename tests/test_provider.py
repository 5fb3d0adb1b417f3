"""The package is an Airflow provider: proven through Airflow's own machinery, not our dict."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import airflow_api_client

EXPECTED_EXTRAS = {"region", "api_version", "timeout", "environment", "allow_insecure_http", "ui_url"}


def _airflow_minor() -> tuple[int, int]:
    major, minor = importlib.metadata.version("apache-airflow-core").split(".")[:2]
    return int(major), int(minor)


def _fab_importable() -> bool:
    return all(importlib.util.find_spec(name) for name in ("wtforms", "flask_appbuilder", "flask_babel"))


#: Airflow 3.0 and 3.1 build the form from the hook's WTForms widgets: ProvidersManager lists them
#: (and the field behaviours, read in the same step) only where WTForms and Flask-AppBuilder are.
needs_form_libraries = pytest.mark.skipif(
    _airflow_minor() < (3, 2) and not _fab_importable(),
    reason="Airflow < 3.2 reads connection forms from WTForms/Flask-AppBuilder widgets, not installed here",
)


def test_providers_manager_resolves_the_logfire_connection_type():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-logfire" in manager.providers
    hook = manager.hooks["logfire"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_logfire.hooks.logfire.LogfireHook"
    assert hook.hook_name == "Pydantic Logfire"
    assert hook.connection_id_attribute_name == "logfire_conn_id"


@needs_form_libraries
def test_providers_manager_lists_the_connection_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = {
        k.removeprefix("extra__logfire__")
        for k in manager.connection_form_widgets
        if k.startswith("extra__logfire__")
    }
    assert widgets == EXPECTED_EXTRAS
    behaviour = manager.field_behaviours["logfire"]
    assert set(behaviour["hidden_fields"]) == {"login", "schema", "port"}
    assert behaviour["relabeling"]["password"] == "Read token"


def test_airflow_providers_list_shows_the_package(airflow_db):
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    assert "airflow-provider-logfire" in result.stdout


@pytest.fixture(scope="module")
def api_client(airflow_db):
    """Airflow's API server app in-process, signed in as an admin."""
    with airflow_api_client() as client:
        yield client


@pytest.mark.skipif(
    _airflow_minor() < (3, 1) and not _fab_importable(),
    reason="Airflow 3.0's API server serves provider connection forms only with Flask-AppBuilder "
    "installed (3.1+ stands in for it)",
)
def test_connection_form_metadata_served_by_the_api_server(api_client):
    response = api_client.get("/ui/connections/hook_meta")
    assert response.status_code == 200, response.text
    entry = next(item for item in response.json() if item["connection_type"] == "logfire")
    assert entry["hook_name"] == "Pydantic Logfire"
    fields = entry["standard_fields"]
    assert fields["login"]["hidden"]
    assert fields["port"]["hidden"]
    assert not fields["password"]["hidden"]
    assert fields["password"]["title"] == "Read token"
    assert fields["host"]["title"] == "Base URL (self-hosted or local, optional)"
    extras = entry["extra_fields"]
    assert set(extras) == EXPECTED_EXTRAS
    assert extras["region"]["schema"]["enum"] == ["auto", "us", "eu"]
    assert extras["api_version"]["value"] == "v2"


def test_airflow_3_0_and_3_1_form_from_the_hook_matches_the_provider_info():
    """Airflow 3.0/3.1 build the form from the hook's methods: they must say what conn-fields say."""
    from airflow_provider_logfire.get_provider_info import get_provider_info
    from airflow_provider_logfire.hooks.logfire import LogfireHook

    declared = get_provider_info()["connection-types"][0]
    behaviour = LogfireHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == declared["ui-field-behaviour"]["hidden-fields"]
    assert behaviour["relabeling"] == declared["ui-field-behaviour"]["relabeling"]


def test_airflow_3_0_and_3_1_widgets_cover_every_conn_field():
    pytest.importorskip("flask_appbuilder", reason="the 3.0/3.1 widget classes come with the FAB UI")
    from airflow_provider_logfire.get_provider_info import get_provider_info
    from airflow_provider_logfire.hooks.logfire import LogfireHook

    declared = get_provider_info()["connection-types"][0]
    widgets = LogfireHook.get_connection_form_widgets()
    assert set(widgets) == set(declared["conn-fields"])


def test_providers_manager_registers_the_logfire_link_and_asset_scheme():
    """The "Logfire" link is known to Airflow (so serialized DAGs keep it) and so is `logfire://`."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow_provider_logfire._airflow.links.LogfireLink" in manager.extra_links_class_names
    manager.initialize_providers_asset_uri_resources()
    assert "logfire" in manager.asset_to_openlineage_converters
    try:  # the task runtime's own registry, from Airflow 3.2; before, ProvidersManager holds it
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        runtime = ProvidersManagerTaskRuntime()
    except ImportError:
        runtime = manager
    assert "logfire" in runtime.asset_uri_handlers
    assert "logfire" in runtime.asset_factories


DOCUMENTATION_URL = "https://airflow-provider-logfire.github.io/airflow-provider-logfire/"


def test_providers_manager_knows_the_documentation_url():
    """Airflow reads it from the package's `Documentation` project URL (the provider info has it too)."""
    from importlib.metadata import metadata

    from airflow.providers_manager import ProvidersManager

    urls = dict(entry.split(", ", 1) for entry in metadata("airflow-provider-logfire").get_all("Project-URL"))
    assert urls["Documentation"] == DOCUMENTATION_URL
    assert set(urls) == {"Documentation", "Source", "Changelog", "Issues"}
    # .strip(): Airflow 3.1 and 3.2 keep the space after the comma of `Documentation, <url>`.
    assert (
        ProvidersManager().providers["airflow-provider-logfire"].data["documentation-url"].strip()
        == DOCUMENTATION_URL
    )


def test_airflow_providers_get_shows_the_documentation_url(airflow_db):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "providers",
            "get",
            "airflow-provider-logfire",
            "--full",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    assert DOCUMENTATION_URL in result.stdout


@pytest.mark.skipif(
    _airflow_minor() < (3, 1), reason="Airflow 3.0's /api/v2/providers has no documentation_url field"
)
def test_the_api_server_lists_the_provider_with_its_documentation_url(api_client):
    response = api_client.get("/api/v2/providers", params={"limit": 100})
    assert response.status_code == 200, response.text
    entry = next(p for p in response.json()["providers"] if p["package_name"] == "airflow-provider-logfire")
    assert entry["documentation_url"].strip() == DOCUMENTATION_URL  # 3.1/3.2 keep a leading space
