"""Everything a client needs to know before it sends a request, checked up front.

The base URL is resolved here once (explicit URL, else region setting, else the token's region
prefix, else US), and the rules that protect the token are enforced here: it is never shown in a
repr, and it is never sent over plain HTTP to anything but this machine unless explicitly allowed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_provider_logfire.client.retry import RetryPolicy
from airflow_provider_logfire.exceptions import LogfireConfigError

REGION_BASE_URLS: dict[str, str] = {
    "us": "https://logfire-us.pydantic.dev",
    "eu": "https://logfire-eu.pydantic.dev",
}
#: Hosts that serve a known region (including the legacy US API host).
HOST_REGIONS: dict[str, str] = {
    "logfire-us.pydantic.dev": "us",
    "logfire-api.pydantic.dev": "us",
    "logfire-eu.pydantic.dev": "eu",
}
REGION_CHOICES = ("auto", *REGION_BASE_URLS)
API_VERSIONS = ("v2", "v1")
DEFAULT_TIMEOUT = 60.0
MAX_LIMIT = 10_000
#: The rows an answer holds when a request gives no `limit`, per API version.
DEFAULT_LIMITS = {"v1": 500, "v2": 100}

_TOKEN_REGION = re.compile(r"^pylf_v[0-9]+_(?P<region>[a-z]+)_")


def token_region(token: str) -> str | None:
    """The region named by a read token's prefix (`pylf_v1_eu_...` → `eu`), or None."""
    match = _TOKEN_REGION.match(token)
    return match.group("region") if match else None


def parse_environments(value: object) -> tuple[str, ...] | None:
    """Deployment environments from a list, or a comma-separated string (what templates render to).

    None or "" mean "no filter"; to ask for rows with no environment set, pass `[""]`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip()) or None
    return tuple(str(part) for part in value)  # type: ignore[union-attr]


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str) -> str:
    """`logfire.example.com/` → `https://logfire.example.com`; keeps an explicit scheme and path."""
    url = url.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LogfireConfigError(
            f"Invalid base URL {url!r}: expected an http(s) URL such as https://logfire-eu.pydantic.dev"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise LogfireConfigError(
            "The base URL must not contain credentials, a query or a fragment; "
            "put the read token in the connection's password field"
        )
    return url.rstrip("/")


@dataclass(frozen=True)
class ClientSettings:
    """How to reach Logfire and how to behave; shared by the sync and async clients."""

    token: str = field(repr=False)
    base_url: str | None = None
    region: str = "auto"
    api_version: str = "v2"
    timeout: float = DEFAULT_TIMEOUT
    #: Default `deployment_environment` filter (v2) for queries that do not give their own.
    environment: tuple[str, ...] = ()
    allow_insecure_http: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Where these settings came from, for error messages (e.g. "connection 'logfire_default'").
    source: str | None = None

    def __post_init__(self) -> None:
        where = f" in {self.source}" if self.source else ""
        if not self.token or not self.token.strip():
            raise LogfireConfigError(
                f"No Logfire read token{where}: put the read token in the connection's password "
                "(Read token) field. Create one in Logfire under Settings → Read tokens, "
                "or with `logfire read-tokens create`."
            )
        if self.region not in REGION_CHOICES:
            raise LogfireConfigError(
                f"Unknown Logfire region {self.region!r}{where}: choose one of "
                f"{', '.join(REGION_CHOICES)}, or set a base URL for self-hosted deployments."
            )
        if self.api_version not in API_VERSIONS:
            raise LogfireConfigError(
                f"Unknown Logfire API version {self.api_version!r}{where}: choose one of "
                f"{', '.join(API_VERSIONS)}."
            )
        if not self.timeout or self.timeout <= 0:
            raise LogfireConfigError(f"The request timeout{where} must be a positive number of seconds.")
        object.__setattr__(self, "environment", tuple(self.environment))
        # Resolve now so that a bad URL or an unsafe scheme fails before any request.
        object.__setattr__(self, "_resolved_base_url", self._resolve_base_url())

    @property
    def resolved_base_url(self) -> str:
        return self._resolved_base_url  # type: ignore[attr-defined]

    def _resolve_base_url(self) -> str:
        where = f" in {self.source}" if self.source else ""
        if self.base_url:
            url = normalize_base_url(self.base_url)
            parts = urlsplit(url)
            if parts.scheme == "http" and not (
                self.allow_insecure_http or is_loopback_host(parts.hostname or "")
            ):
                raise LogfireConfigError(
                    f"Refusing to send the read token over plain HTTP to {parts.hostname}{where}: "
                    "use https://, or set allow_insecure_http=true in the connection extras "
                    "if this host is on a trusted network."
                )
            return url
        if self.region != "auto":
            return REGION_BASE_URLS[self.region]
        region = token_region(self.token)
        if region is None:
            return REGION_BASE_URLS["us"]
        if region not in REGION_BASE_URLS:
            raise LogfireConfigError(
                f"The read token{where} names region {region!r}, which this provider does not know "
                f"(known: {', '.join(REGION_BASE_URLS)}): set the connection's base URL (host) "
                "to your Logfire API URL."
            )
        return REGION_BASE_URLS[region]

    def region_mismatch_hint(self) -> str | None:
        """A hint when the token's region and the host's region disagree (a common cause of 401)."""
        token_reg = token_region(self.token)
        host_reg = HOST_REGIONS.get(urlsplit(self.resolved_base_url).hostname or "")
        if token_reg and host_reg and token_reg in REGION_BASE_URLS and token_reg != host_reg:
            return (
                f"the token is {'an' if token_reg[0] in 'aeiou' else 'a'} {token_reg.upper()} token (pylf_v*_{token_reg}_…) "
                f"but the request went "
                f"to the {host_reg.upper()} host {self.resolved_base_url}; set region to "
                f"'{token_reg}' or 'auto', or clear the base URL"
            )
        return None

    def describe(self) -> str:
        """Where requests go, for messages: "https://... (connection 'x')"."""
        if self.source:
            return f"{self.resolved_base_url} ({self.source})"
        return self.resolved_base_url
