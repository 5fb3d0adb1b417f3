"""The `logfire` connection, created through the Airflow UI's form in headless Chromium.

Debian's `chromium` driven by Playwright for Python (no browser download). The test signs in with
the SimpleAuthManager's login page, opens Admin > Connections > Add Connection, picks the
"Pydantic Logfire" type, checks the form the provider describes (relabelled and hidden standard
fields, placeholders, each extra field's label and help text), fills it for the local server,
saves it, runs "Test Connection" from the list and expects success. Screenshots are kept in
`<e2e output>/ui/`.

Airflow 3.3's UI offers "Test Connection" only on a saved connection's row, and sends the row's
port as `Number(null)`, i.e. 0, for a connection without one; the API then takes it for another
destination and refuses to test with the stored token (400, apache/airflow#73298, fixed after
3.3.2). When the API answers with exactly that refusal, the test sends the request again without
the port, as the fix does on the server, and says so in its output.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_logfire._airflow.connection_form import (
    CONN_FIELD_LABELS,
    PLACEHOLDERS,
    RELABELING,
)
from airflow_provider_logfire.get_provider_info import get_provider_info
from tests.e2e.deployment import ADMIN_USER, READ_TOKEN, Deployment

CHROMIUM = os.environ.get("LOGFIRE_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CONN_ID = "logfire_ui"
#: What Airflow 3.3.2's API answers to the UI's `port: 0` (apache/airflow#73298).
PORT_ZERO_REFUSAL = "The host or port to test differs from the stored connection"
TIMEOUT_MS = 90_000  # a loaded two-core machine renders the React UI slowly


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"No Chromium at {CHROMIUM}: `apt-get install -y chromium` (make e2e does, as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _conn_fields() -> dict[str, dict[str, Any]]:
    (connection_type,) = get_provider_info()["connection-types"]
    return connection_type["conn-fields"]


def test_connection_created_and_tested_through_the_ui_form(browser: Any, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    shots = deployment.out / "ui"
    shots.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        _sign_in(page, deployment)
        dialog = _open_add_form(page)
        _check_and_fill_standard_fields(page, dialog, deployment)
        _check_and_fill_extra_fields(page, dialog)
        page.screenshot(path=shots / "connection-form.png", full_page=True)
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()
        row = page.get_by_role("row").filter(has_text=CONN_ID)
        expect(row).to_contain_text(deployment.logfire_url)
        result = _test_from_the_list(page, row, shots)
        page.screenshot(path=shots / "connection-tested.png", full_page=True)
    except Exception:
        page.screenshot(path=shots / "failure.png", full_page=True)
        raise
    finally:
        page.close()
    assert result == {"status": True, "message": "Connected to local/demo"}, result

    api = deployment.api
    assert api is not None
    saved = api.get(f"/connections/{CONN_ID}")
    assert saved["conn_type"] == "logfire"
    assert saved["host"] == deployment.logfire_url
    assert saved["password"] != READ_TOKEN  # the API masks it
    assert saved["login"] in (None, "") and saved["port"] is None
    extra = json.loads(saved["extra"])
    assert extra["timeout"] == 30, extra
    assert extra["api_version"] == "v2" and extra["region"] == "auto", extra
    assert extra.get("allow_insecure_http") in (False, None), extra


def _sign_in(page: Any, deployment: Deployment) -> None:
    page.goto(f"{deployment.api_url}/connections")  # redirects to the login page
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(deployment.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/connections")


def _open_add_form(page: Any) -> Any:
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox", name="Connection Type").fill("logfire")
    page.get_by_role("option", name="Pydantic Logfire").click()
    dialog.get_by_label("Connection ID").fill(CONN_ID)
    return dialog


def _check_and_fill_standard_fields(page: Any, dialog: Any, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    host = dialog.get_by_label(RELABELING["host"])
    token = dialog.get_by_label(RELABELING["password"], exact=True)
    expect(host).to_have_attribute("placeholder", PLACEHOLDERS["host"])
    expect(token).to_have_attribute("placeholder", PLACEHOLDERS["password"])
    expect(token).to_have_attribute("type", "password")
    for hidden in ("Login", "Schema", "Port"):  # HIDDEN_FIELDS
        expect(dialog.get_by_label(hidden, exact=True)).to_have_count(0)
    host.fill(deployment.logfire_url)
    token.fill(READ_TOKEN)


def _check_and_fill_extra_fields(page: Any, dialog: Any) -> None:
    from playwright.sync_api import expect

    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    for name, field in _conn_fields().items():
        group = _field_group(page, dialog, CONN_FIELD_LABELS[name])
        expect(group).to_have_count(1)
        expect(group.get_by_text(field["description"], exact=True)).to_be_visible()
        schema = field["schema"]
        kind = "combobox" if "enum" in schema else _WIDGETS[schema["type"][0]]
        expect(group.get_by_role(kind)).to_be_visible()
        if name in ("region", "api_version"):  # selects, showing the schema's default
            expect(group).to_contain_text(schema["default"])
    timeout = dialog.get_by_role("spinbutton", name=CONN_FIELD_LABELS["timeout"])
    expect(timeout).to_have_value(str(_conn_fields()["timeout"]["schema"]["default"]))
    timeout.fill("30")


#: The widget Airflow's UI draws for each JSON-schema type of a conn-field (enums are selects).
_WIDGETS = {"string": "textbox", "number": "spinbutton", "boolean": "checkbox"}


def _field_group(page: Any, dialog: Any, label: str) -> Any:
    """The form group of one field, found by its label's text.

    Not `get_by_label`: Airflow 3.3's form points a plain text field's `<label for>` at an id its
    input does not have, so that input has no accessible name.
    """
    return dialog.get_by_role("group").filter(has=page.get_by_text(label, exact=True))


def _test_from_the_list(page: Any, row: Any, shots: Path) -> dict[str, Any]:
    """Click "Test Connection" on the row; returns what the API answered the UI."""
    from playwright.sync_api import expect

    button = row.get_by_role("button", name="Test Connection")
    with page.expect_response("**/api/v2/connections/test") as answer:
        button.click()
    response = answer.value
    if response.status == 400 and PORT_ZERO_REFUSAL in response.text():
        print(
            f"\nAirflow refused the UI's test request ({PORT_ZERO_REFUSAL}, apache/airflow#73298); retrying without port 0"
        )
        page.screenshot(path=shots / "connection-test-refused-port-0.png", full_page=True)
        page.route("**/api/v2/connections/test", _drop_port_zero)
        with page.expect_response("**/api/v2/connections/test") as answer:
            button.click()
        response = answer.value
    assert response.ok, f"{response.status} {response.text()}"
    expect(page.get_by_text("Test Connection Successful")).to_be_visible()
    expect(page.get_by_text("Connected to local/demo")).to_be_visible()  # the hook's message
    return response.json()


def _drop_port_zero(route: Any) -> None:
    body = route.request.post_data_json
    if body.get("port") == 0:
        del body["port"]
    route.continue_(post_data=json.dumps(body))


pytestmark = pytest.mark.timeout(600)
