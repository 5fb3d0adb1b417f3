"""What each exception of the client means, produced for real against a server.

export LOGFIRE_READ_TOKEN=...  LOGFIRE_BASE_URL=...   # e.g. the local server
python docs/examples/client_errors.py
"""

from __future__ import annotations

import os

from airflow_provider_logfire.client import (
    ClientSettings,
    LogfireAPIError,
    LogfireAuthError,
    LogfireClient,
    LogfireConfigError,
    LogfireError,
    LogfireNotFoundError,
    LogfireQueryError,
)

token = os.environ["LOGFIRE_READ_TOKEN"]
base_url = os.environ.get("LOGFIRE_BASE_URL")

caught: list[LogfireError] = []  # what each block below raised, checked at the end

# --8<-- [start:query_error]
with LogfireClient.from_token(token, base_url=base_url) as client:
    try:
        client.query_json_rows("SELECT no_such_column FROM records")
    except LogfireQueryError as exc:  # HTTP 400: fix the SQL
        print(exc.status_code, exc.target)  # 400 POST /v2/query
        print(exc.detail)  # the server's own explanation
        # --8<-- [end:query_error]
        caught.append(exc)

# --8<-- [start:auth_error]
wrong_token = "pylf_v1_us_notTheRightToken"
with LogfireClient.from_token(wrong_token, base_url=base_url) as client:
    try:
        client.info()
    except LogfireAuthError as exc:  # HTTP 401/403: wrong, expired or revoked token, or wrong region
        print(exc)  # Logfire refused the read token (HTTP 401) for ... Hint: ...
        # --8<-- [end:auth_error]
        caught.append(exc)

# --8<-- [start:region_hint]
# An EU token sent to the US host is refused with a hint that names the fix:
settings = ClientSettings(token="pylf_v1_eu_example", region="us")
print(settings.region_mismatch_hint())
# the token is an EU token (pylf_v*_eu_…) but the request went to the US host
# https://logfire-us.pydantic.dev; set region to 'eu' or 'auto', or clear the base URL
# --8<-- [end:region_hint]
assert "set region to 'eu' or 'auto'" in (settings.region_mismatch_hint() or "")

# --8<-- [start:config_errors]
# LogfireConfigError: refused before anything is sent.
for attempt in (
    lambda: LogfireClient.from_token(""),  # no token
    lambda: LogfireClient.from_token(token, base_url="http://logfire.example.com"),  # plain HTTP, not local
    lambda: LogfireClient.from_token(token, base_url=base_url).query_json("SELECT 1", limit=50_000),
    lambda: LogfireClient.from_token(token, base_url=base_url, api_version="v1").query_json(
        "SELECT 1",
        timezone="Europe/Paris",  # timezone and environment need the v2 API
    ),
):
    try:
        attempt()
    except LogfireConfigError as exc:
        print(f"LogfireConfigError: {exc}")
        # --8<-- [end:config_errors]
        caught.append(exc)

if base_url:  # a path that is not Logfire's API: HTTP 404
    with LogfireClient.from_token(token, base_url=f"{base_url}/not-the-api") as client:
        try:
            client.info()
        except LogfireNotFoundError as exc:
            caught.append(exc)


# --8<-- [start:catch_all]
def row_count(sql: str) -> int | None:
    """None when Logfire cannot answer; the reason is in the message, never the token."""
    try:
        with LogfireClient.from_token(token, base_url=base_url) as client:
            return len(client.query_json_rows(sql, limit=10_000)["rows"])
    except LogfireAPIError as exc:
        print(f"HTTP {exc.status_code}, retryable={exc.retryable}: {exc.detail}")
    except LogfireError as exc:  # network, decoding and configuration problems
        print(f"{type(exc).__name__}: {exc}")
    return None


# --8<-- [end:catch_all]


assert row_count("SELECT 1 AS one") == 1
assert row_count("SELEC 1") is None

assert [type(exc).__name__ for exc in caught] == [
    "LogfireQueryError",
    "LogfireAuthError",
    *["LogfireConfigError"] * 4,
    *(["LogfireNotFoundError"] if base_url else []),
]
assert caught[0].status_code == 400
assert "no_such_column" in caught[0].detail
assert wrong_token not in str(caught[1])
assert wrong_token not in repr(caught[1])
