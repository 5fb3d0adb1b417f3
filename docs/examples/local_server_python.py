"""The local server from Python: an engine, demo data, a server in a thread, its guard rails,
and the fault proxy that makes it fail like a real service (429, 503, resets, cut-off bodies).

Self-contained (needs the `local` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from airflow_provider_logfire.client import LogfireClient, LogfireQueryError, LogfireServerError, RetryPolicy
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.faults import Fault, fault_proxy
from airflow_provider_logfire.local.testing import run_local_server

# --8<-- [start:engine]
day_end = datetime(2026, 11, 27, tzinfo=timezone.utc)
engine = LocalEngine(query_timeout=1)  # in memory; LocalEngine.in_directory(path) keeps Parquet files
summary = engine.load_demo(days=2, rows_per_day=5_000, seed=1, end=day_end)
# DemoSummary(records=10000, metrics=..., start=2026-11-25 00:00 UTC, end=2026-11-27 00:00 UTC)
print(summary)
print(engine.count("records"), engine.count("metrics"))

with run_local_server(engine, organization_name="acme", project_name="shop", latency_ms=5) as server:
    print(server.url)  # http://127.0.0.1:<free port>; server.token is the dev token unless you pass token=
    with LogfireClient.from_token(server.token, base_url=server.url) as client:
        print(client.info())  # {'organization_name': 'acme', 'project_name': 'shop'}
        # --8<-- [end:engine]
        assert client.info() == {"organization_name": "acme", "project_name": "shop"}
        assert summary.records == 10_000 == engine.count("records")

        # --8<-- [start:window]
        # The window is half-open: a row at max_timestamp belongs to the next window.
        edge = day_end - timedelta(days=1)
        first_day = client.query_json_rows(
            "SELECT count(*) AS n FROM records", min_timestamp=edge - timedelta(days=1), max_timestamp=edge
        )
        second_day = client.query_json_rows(
            "SELECT count(*) AS n FROM records", min_timestamp=edge, max_timestamp=day_end
        )
        print(first_day["rows"], second_day["rows"])  # [{'n': 5000}] [{'n': 5000}]: no row counted twice
        # --8<-- [end:window]
        assert first_day["rows"] == second_day["rows"] == [{"n": 5_000}]

        refusals: list[str] = []
        # --8<-- [start:guard]
        for sql in (
            "DELETE FROM records",  # only one read-only SELECT is allowed
            "SELECT * FROM read_csv('/etc/passwd')",  # no file (or network) access from SQL
            "SELECT count(*) FROM range(1000000000000)",  # cancelled after query_timeout seconds
        ):
            try:
                client.query_json_rows(sql)
            except LogfireQueryError as exc:  # HTTP 400, like Logfire for a failing query
                print(exc.detail)
                # --8<-- [end:guard]
                refusals.append(exc.detail)
        assert len(refusals) == 3, refusals

    # --8<-- [start:health]
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}  # the only path without a token
    assert httpx.get(f"{server.url}/v1/read-token-info").status_code == 401
    # --8<-- [end:health]

# --8<-- [start:proxy]
with run_local_server(engine) as server, fault_proxy(server.url) as proxy:
    proxy.inject(
        Fault.status_code(429, retry_after="1"),  # rate limited: wait 1 s, as the server asks
        Fault.status_code(503),  # a proxy's error page
        Fault.reset(),  # connection reset before any answer
        Fault.truncate(after_bytes=200),  # the Arrow stream cut off mid-body
    )
    policy = RetryPolicy(max_attempts=5, initial_delay=0.2)
    with LogfireClient.from_token(server.token, base_url=proxy.url, retry=policy) as client:
        table = client.query_arrow("SELECT * FROM records", limit=1_000)  # five attempts, one answer
    print(table.num_rows, dict(proxy.served))
    # 1000 {'status_429': 1, 'status_503': 1, 'reset': 1, 'truncate': 1}

    proxy.inject(Fault.status_code(503))
    with LogfireClient.from_token(server.token, base_url=proxy.url, retry=RetryPolicy.none()) as client:
        try:
            client.info()
        except LogfireServerError as exc:
            print(exc.status_code, exc.retryable)  # 503 True: worth retrying, but this policy does not
            # --8<-- [end:proxy]
            refused = exc.status_code
    assert refused == 503, "RetryPolicy.none() must not retry"
    assert table.num_rows == 1_000
    assert dict(proxy.served) == {"status_429": 1, "status_503": 2, "reset": 1, "truncate": 1}
engine.close()
