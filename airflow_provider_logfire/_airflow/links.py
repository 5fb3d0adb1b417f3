"""The "Logfire" extra link of the operators: the run's window in the Logfire web UI.

Airflow 3 works a link out on the worker when the task ends (`BaseOperatorLink.get_link`) and
stores the URL in XCom, from which the web server shows it: the server never calls Logfire.
The URL needs the project's names, which only the read token's `read-token-info` tells, so the
task finds it while it runs (`persist_logfire_link`), keeps it in an XCom of its own, and
`get_link` reads that XCom back, also after a deferral or on a retry.

A connection to a Logfire region links to `https://logfire-<region>.pydantic.dev/<org>/<project>`;
a self-hosted or local server links only where its `ui_url` extra says the UI is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_logfire._airflow.compat import BaseOperatorLink

if TYPE_CHECKING:
    from airflow_provider_logfire.core.windows import TimeWindow

log = logging.getLogger(__name__)

#: The XCom holding the URL the task found (the link's own `xcom_key` holds what Airflow shows).
UI_URL_XCOM_KEY = "logfire_ui_url"


class LogfireLink(BaseOperatorLink):
    """The live view of the project the task read, over the task's time window."""

    name = "Logfire"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow_provider_logfire._airflow.compat import xcom_backend

        return xcom_backend().get_value(ti_key=ti_key, key=UI_URL_XCOM_KEY) or ""


def persist_logfire_link(
    context: Any, hook: Any, window: TimeWindow, environments: Sequence[str] | None = None
) -> str | None:
    """Find the task's Logfire URL and keep it for `LogfireLink`; never fails the task.

    `hook` is the task's `LogfireHook` (its project lookup is shared with lineage); no request is
    made when the connection's deployment has no known UI. Keeps `""` when there is no link (so
    that `get_link` finds an answer) and returns the URL or None.
    """
    url = None
    try:
        if hook.get_project(names=False).ui_base_url is None:
            log.info("No Logfire link: the connection's server has no known web UI (see the ui_url extra)")
        else:
            url = hook.get_project().live_view_url(window.start, window.end, environments)
    except Exception as exc:  # a link is a convenience: the query itself reports real errors
        log.warning("No Logfire link for this task: %s", exc)
    ti = context.get("ti")
    if ti is not None:  # None: `execute` called by hand, with a context of only a window
        ti.xcom_push(key=UI_URL_XCOM_KEY, value=url or "")
    return url
