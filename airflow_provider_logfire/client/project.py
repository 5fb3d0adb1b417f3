"""Which Logfire project a connection reads, named for lineage and linked in the web UI.

One pure mapping, shared by the hook (hook lineage, OpenLineage) and the operators (the "Logfire"
extra link): client settings plus the read token's `organization_name`/`project_name` give

- a lineage namespace, `logfire://<api host>/<organization>/<project>` (`logfire://<api host>`
  when the names are unknown), under which the tables `records`/`metrics` are the datasets;
- the project's page in the Logfire web UI, whose host is the API host for the Logfire regions
  (`https://logfire-us.pydantic.dev/<organization>/<project>`, as Logfire's own MCP server links
  it), and which a self-hosted or local server only has when the connection names its UI URL.

Nothing here knows the token: the settings' token is never read, so nothing built here can hold it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from airflow_provider_logfire.client.settings import (
    HOST_REGIONS,
    REGION_BASE_URLS,
    ClientSettings,
    normalize_base_url,
)

#: The URI scheme of Logfire datasets (OpenLineage namespaces and Airflow asset URIs).
LINEAGE_SCHEME = "logfire"


def api_authority(settings: ClientSettings) -> str:
    """`host[:port]` of the API the settings reach; a region's legacy host becomes its current one.

    So `https://logfire-api.pydantic.dev` and `https://logfire-us.pydantic.dev` name one namespace.
    """
    parts = urlsplit(settings.resolved_base_url)
    host = (parts.hostname or "").lower()
    region = HOST_REGIONS.get(host)
    if region is not None:
        return urlsplit(REGION_BASE_URLS[region]).hostname or host
    return f"{host}:{parts.port}" if parts.port else host


def ui_base_url(settings: ClientSettings, configured: str | None = None) -> str | None:
    """Where the Logfire web UI of the settings' deployment is, or None when it cannot be known.

    `configured` (the connection's `ui_url` extra) wins; else a region host's UI is the region
    host itself; a self-hosted or local base URL has no UI this provider could guess.
    """
    if configured:
        return normalize_base_url(configured)
    region = HOST_REGIONS.get((urlsplit(settings.resolved_base_url).hostname or "").lower())
    return REGION_BASE_URLS[region] if region is not None else None


@dataclass(frozen=True)
class LogfireProject:
    """A connection's Logfire project: its lineage namespace and its web UI page."""

    #: `host[:port]` of the query API (see `api_authority`).
    authority: str
    organization: str | None = None
    project: str | None = None
    #: The web UI's base URL (see `ui_base_url`), or None for none known.
    ui_base_url: str | None = None

    @classmethod
    def of(
        cls, settings: ClientSettings, info: Mapping[str, Any] | None, *, ui_url: str | None = None
    ) -> LogfireProject:
        """From client settings and a `read-token-info` answer (None when it could not be read)."""
        info = info or {}
        organization, project = info.get("organization_name"), info.get("project_name")
        return cls(
            authority=api_authority(settings),
            organization=str(organization) if organization else None,
            project=str(project) if project else None,
            ui_base_url=ui_base_url(settings, ui_url),
        )

    @property
    def namespace(self) -> str:
        """`logfire://<host>/<organization>/<project>`, or `logfire://<host>` without the names."""
        base = f"{LINEAGE_SCHEME}://{self.authority}"
        if self.organization and self.project:
            return f"{base}/{quote(self.organization, safe='')}/{quote(self.project, safe='')}"
        return base

    def table_uri(self, table: str) -> str:
        """The Airflow asset URI of one of the project's tables: `<namespace>/<table>`."""
        return f"{self.namespace}/{table}"

    @property
    def url(self) -> str | None:
        """The project's page (its live view) in the web UI, or None when no UI is known."""
        if not (self.ui_base_url and self.organization and self.project):
            return None
        return f"{self.ui_base_url}/{quote(self.organization, safe='')}/{quote(self.project, safe='')}"

    def live_view_url(
        self, start: datetime, end: datetime, environments: Sequence[str] | None = None
    ) -> str | None:
        """The live view over `[start, end)` (and the environments), as the UI's own links carry it.

        The UI reads `since`/`until` (ISO 8601) and one `env` per deployment environment.
        """
        if self.url is None:
            return None
        params: list[tuple[str, str]] = [("since", _iso(start)), ("until", _iso(end))]
        params += [("env", name) for name in environments or ()]
        return f"{self.url}?{urlencode(params)}"


def _iso(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.isoformat().replace("+00:00", "Z")
