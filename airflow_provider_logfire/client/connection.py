"""An Airflow connection's fields → `ClientSettings`, as a pure function of plain values.

The hook reads the connection; this module says what its fields mean. Keeping the mapping free of
Airflow lets the client tier (and `dbapi`) depend on it without importing the Airflow tier, and
makes it testable without a metadata database or secrets backend.

Fields: the read token is the password, an optional base URL is the host, and the extras are
`region` (auto/us/eu), `api_version` (v2/v1), `timeout` (seconds), `environment` (default
deployment environment(s), comma-separated), `allow_insecure_http` and `ui_url` (the web UI of a
self-hosted deployment, for links only: `ui_url_from_extra`). Each extra may also be stored as
`extra__logfire__<name>`, as Airflow's older connection forms save them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_logfire.client.settings import (
    DEFAULT_TIMEOUT,
    ClientSettings,
    normalize_base_url,
    parse_environments,
)
from airflow_provider_logfire.exceptions import LogfireConfigError

#: The prefix Airflow's older connection forms give to a provider's extra fields.
FORM_EXTRA_PREFIX = "extra__logfire__"
#: Spellings of "true" in a text extra (the UI stores checkboxes and typed values as text).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def settings_from_connection(
    conn_id: str,
    host: str | None,
    password: str | None,
    extra: Mapping[str, Any] | None,
) -> ClientSettings:
    """Client settings for connection `conn_id` from its host, password and parsed extras.

    Errors name the connection, so that a user with many connections knows which one to fix.
    """

    def read(name: str, default: Any = None) -> Any:
        return _read_extra(extra, name, default)

    raw_timeout = read("timeout", DEFAULT_TIMEOUT)
    try:
        timeout = float(raw_timeout)
    except (TypeError, ValueError):
        raise LogfireConfigError(
            f"The timeout extra of connection '{conn_id}' must be a number of seconds, got {raw_timeout!r}"
        ) from None
    return ClientSettings(
        token=(password or "").strip(),
        base_url=(host or "").strip() or None,
        region=str(read("region", "auto")).strip().lower(),
        api_version=str(read("api_version", "v2")).strip().lower(),
        timeout=timeout,
        environment=parse_environments(read("environment")) or (),
        allow_insecure_http=parse_bool(read("allow_insecure_http", False)),
        source=f"connection '{conn_id}'",
    )


def ui_url_from_extra(conn_id: str, extra: Mapping[str, Any] | None) -> str | None:
    """The connection's `ui_url` extra (the web UI's base URL), checked, or None when not set.

    Links only: no request goes there, so the token's plain-HTTP rule does not apply.
    """
    value = _read_extra(extra, "ui_url")
    if value is None:
        return None
    try:
        return normalize_base_url(str(value))
    except LogfireConfigError as exc:
        raise LogfireConfigError(f"The ui_url extra of connection '{conn_id}': {exc}") from None


def _read_extra(extra: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    extras = extra or {}
    value = extras.get(name, extras.get(f"{FORM_EXTRA_PREFIX}{name}"))
    return default if value is None or value == "" else value


def parse_bool(value: Any) -> bool:
    """A flag from an extra: JSON booleans as they are, text by its usual spellings of true."""
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)
