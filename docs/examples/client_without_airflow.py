"""The Logfire client on its own: no Airflow, no connection, just a read token.

export LOGFIRE_READ_TOKEN=pylf_v1_eu_...          # Logfire → Settings → Read tokens
export LOGFIRE_BASE_URL=http://127.0.0.1:8787     # only for self-hosted or local servers
python docs/examples/client_without_airflow.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

# --8<-- [start:client]
from airflow_provider_logfire.client import AsyncLogfireClient, LogfireClient, RetryPolicy

client = LogfireClient.from_token(
    os.environ["LOGFIRE_READ_TOKEN"],
    base_url=os.environ.get("LOGFIRE_BASE_URL"),  # None: the region comes from the token
    timeout=30,
    retry=RetryPolicy(max_attempts=3, max_elapsed=60),
)
print(client)  # LogfireClient(base_url='https://logfire-eu.pydantic.dev', api_version='v2'): no token
# --8<-- [end:client]

today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
last_hour = {"min_timestamp": today - timedelta(hours=1), "max_timestamp": today}

# --8<-- [start:queries]
with client:
    print(client.info())  # {'organization_name': ..., 'project_name': ...}
    table = client.query_arrow("SELECT * FROM records", limit=1_000, **last_hour)
    print(f"{table.num_rows} rows, {table.num_columns} columns")

    # v2 NDJSON: rows as dicts, decoded line by line while the answer arrives.
    for row in client.iter_rows(
        "SELECT span_name, duration FROM records WHERE duration IS NOT NULL ORDER BY duration DESC",
        limit=3,
        timezone="Europe/Paris",  # the session time zone of this query (v2 only)
        **last_hour,
    ):
        print(row)

    # CSV straight into a file, written whole or not at all.
    target = Path(tempfile.mkdtemp()) / "errors.csv"
    size = client.query_csv_to_file(
        "SELECT * FROM records WHERE level >= 17", target, limit=10_000, **last_hour
    )
    print(f"{size:,} bytes written to {target}")
# --8<-- [end:queries]
assert target.read_text().startswith("start_timestamp,")  # CSV quotes only where needed


# --8<-- [start:async]
async def count_rows() -> int:
    async with AsyncLogfireClient.from_token(
        os.environ["LOGFIRE_READ_TOKEN"], base_url=os.environ.get("LOGFIRE_BASE_URL")
    ) as aclient:
        result = await aclient.query_json_rows("SELECT count(*) AS n FROM records", **last_hour)
        # Arrow record batches as the answer arrives: one batch in memory at a time.
        streamed = 0
        async for batch in aclient.iter_batches("SELECT span_name FROM records", limit=1_000, **last_hour):
            streamed += batch.num_rows
        print(f"{streamed} rows streamed")
    return result["rows"][0]["n"]


print(asyncio.run(count_rows()))
# --8<-- [end:async]
assert asyncio.run(count_rows()) >= table.num_rows

# --8<-- [start:dbapi]
from airflow_provider_logfire import dbapi  # noqa: E402

with dbapi.connect(
    read_token=os.environ["LOGFIRE_READ_TOKEN"],
    base_url=os.environ.get("LOGFIRE_BASE_URL"),
    min_timestamp=timedelta(hours=6),  # each query reads the six hours before it runs (default: a day)
) as conn:
    cursor = conn.cursor()
    cursor.execute(
        "SELECT service_name, count(*) FROM records WHERE level >= %(level)s GROUP BY 1 ORDER BY 2 DESC",
        {"level": 13},
    )
    for service_name, warnings_and_errors in cursor:
        print(f"{service_name}: {warnings_and_errors}")
# --8<-- [end:dbapi]
assert cursor.rowcount >= 1
