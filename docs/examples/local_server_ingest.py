"""Send telemetry to the local server with the Logfire SDK, then read it back with the provider.

Self-contained (needs the `local` extra and `pip install logfire`). Your own application does the
same with LOGFIRE_BASE_URL and LOGFIRE_TOKEN set to what `logfire-local serve` prints.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta, timezone

import logfire

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

engine = LocalEngine()
with run_local_server(engine) as server:
    # --8<-- [start:ingest]
    logfire.configure(
        token=server.token,  # the local server's token doubles as the write token
        send_to_logfire=True,  # also under pytest, where the SDK otherwise keeps data local
        advanced=logfire.AdvancedOptions(base_url=server.url),
        service_name="billing",
        environment="dev",
        console=False,
        data_dir=tempfile.mkdtemp(),  # keep the SDK's credentials file out of the project
    )
    with logfire.span("send invoice {invoice_id}", invoice_id=42):
        logfire.error("payment declined for {customer}", customer="acme")
    logfire.force_flush(timeout_millis=30_000)  # the SDK sends in batches: flush before reading back
    # --8<-- [end:ingest]

    deadline = time.monotonic() + 30  # on a busy machine the SDK may still be retrying a send
    while engine.count("records") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)

    # --8<-- [start:read_back]
    now = datetime.now(timezone.utc)
    with LogfireClient.from_token(server.token, base_url=server.url) as client:
        rows = client.query_json_rows(
            "SELECT kind, level, message, service_name, deployment_environment FROM records ORDER BY start_timestamp",
            min_timestamp=now - timedelta(minutes=5),
            max_timestamp=now + timedelta(minutes=1),
        )["rows"]
    for row in rows:
        print(row)
    # {'kind': 'span', 'level': 9, 'message': 'send invoice 42', 'service_name': 'billing', ...}
    # {'kind': 'log', 'level': 17, 'message': 'payment declined for acme', 'service_name': 'billing', ...}
    # --8<-- [end:read_back]
    logfire.shutdown()
engine.close()

assert [(row["kind"], row["level"], row["message"]) for row in rows] == [
    ("span", 9, "send invoice 42"),
    ("log", 17, "payment declined for acme"),
]
assert {row["deployment_environment"] for row in rows} == {"dev"}
