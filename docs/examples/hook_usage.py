"""Every method of LogfireHook, on yesterday's data (UTC): results as JSON, Arrow, CSV and DataFrames.

Run it against any `logfire` connection, e.g. the local server:

    logfire-local serve --demo-days 3 &
    export AIRFLOW_CONN_LOGFIRE_DEFAULT='{"conn_type": "logfire", "host": "http://127.0.0.1:8787", "password": "pylf_v1_local_devtoken"}'
    python docs/examples/hook_usage.py

DataFrames need the extras: pip install "airflow-provider-logfire[pandas,polars]"
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import polars as pl

from airflow_provider_logfire.hooks.logfire import LogfireHook

today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
# --8<-- [start:window]
yesterday = {"min_timestamp": today - timedelta(days=1), "max_timestamp": today}
# --8<-- [end:window]

# --8<-- [start:info]
hook = LogfireHook()  # logfire_conn_id="logfire_default"
info = hook.info()
print(f"Reading {info['organization_name']}/{info['project_name']}")
# --8<-- [end:info]

# --8<-- [start:json_rows]
result = hook.query_json_rows(
    "SELECT service_name, count(*) AS n FROM records GROUP BY service_name ORDER BY n DESC",
    **yesterday,
)
print([column["name"] for column in result["columns"]])  # ['service_name', 'n']
for row in result["rows"]:
    print(f"{row['service_name']:<15} {row['n']:>8,}")
# --8<-- [end:json_rows]
total = sum(row["n"] for row in result["rows"])

# --8<-- [start:json_columns]
columns = hook.query_json(
    "SELECT level, count(*) AS n FROM records GROUP BY level ORDER BY level", **yesterday
)
by_name = {column["name"]: column["values"] for column in columns["columns"]}
print(dict(zip(by_name["level"], by_name["n"], strict=True)))  # {5: ..., 9: ..., 13: ..., 17: ...}
# --8<-- [end:json_columns]
assert sum(by_name["n"]) == total

# --8<-- [start:arrow]
table = hook.query_arrow(
    "SELECT start_timestamp, span_name, duration FROM records WHERE kind = 'span'",
    limit=10_000,  # without a limit the API returns 100 rows (v2) or 500 (v1)
    **yesterday,
)
print(table.schema.field("start_timestamp").type)  # timestamp[us, tz=UTC]
# --8<-- [end:arrow]
assert 0 < table.num_rows <= 10_000

# --8<-- [start:csv]
text = hook.query_csv("SELECT span_name, duration FROM records ORDER BY duration DESC", limit=3, **yesterday)
print(text)  # a header row, then three rows
# --8<-- [end:csv]
assert len(text.splitlines()) == 4

# --8<-- [start:batches]
rows = 0
for batch in hook.iter_batches("SELECT * FROM records", limit=10_000, **yesterday):
    rows += batch.num_rows  # each batch is a pyarrow.RecordBatch, decoded as it arrives
print(f"{rows:,} rows streamed")
# --8<-- [end:batches]
assert rows == min(total, 10_000)

# --8<-- [start:client]
# Several queries on one connection pool: take the client and close it when done.
with hook.get_client() as client:
    errors = client.query_json_rows("SELECT count(*) AS n FROM records WHERE level >= 17", **yesterday)
    spans = client.query_json_rows("SELECT count(*) AS n FROM records WHERE kind = 'span'", **yesterday)
print(f"{errors['rows'][0]['n']:,} errors, {spans['rows'][0]['n']:,} spans")
# --8<-- [end:client]

# --8<-- [start:common_sql]
# common-sql's DbApiHook methods, bounded by the hook's window (in a task: the run's window).
day_hook = LogfireHook(min_timestamp=yesterday["min_timestamp"], max_timestamp=yesterday["max_timestamp"])
print(day_hook.query_window())  # (datetime(... 00:00, tzinfo=UTC), datetime(... 00:00, tzinfo=UTC))
(error_count,) = day_hook.get_first("SELECT count(*) FROM records WHERE level >= %(level)s", {"level": 17})
services = day_hook.get_records("SELECT DISTINCT service_name FROM records ORDER BY 1")
print(error_count, [name for (name,) in services])

with day_hook.get_conn() as conn:  # a PEP 249 connection (airflow_provider_logfire.dbapi)
    cursor = conn.cursor()
    cursor.execute("SELECT span_name, duration FROM records WHERE duration > %s ORDER BY 2 DESC", [10])
    print(cursor.description[0][0], cursor.fetchmany(3))  # span_name [('...', 45.19...), ...]
# --8<-- [end:common_sql]
assert error_count == errors["rows"][0]["n"]

# --8<-- [start:settings]
settings = hook.get_settings()  # the connection, checked: nothing is sent yet
print(settings.resolved_base_url, settings.api_version, settings.timeout)
# --8<-- [end:settings]

# --8<-- [start:settings_from_connection]
connection = hook.get_connection("logfire_default")  # an Airflow Connection you already hold
assert hook.settings_from_connection(connection) == settings
# --8<-- [end:settings_from_connection]

# --8<-- [start:form]
form = LogfireHook.get_ui_field_behaviour()
print(form["relabeling"])  # {'password': 'Read token', 'host': 'Base URL (self-hosted or local, optional)'}
# --8<-- [end:form]
assert form["hidden_fields"] == ["login", "schema", "port"]

# --8<-- [start:test_connection]
ok, message = hook.test_connection()
print(ok, message)  # True Connected to <organisation>/<project>
# --8<-- [end:test_connection]
assert ok, message

# --8<-- [start:pandas]
slow = hook.get_df(
    "SELECT start_timestamp, service_name, span_name, duration FROM records WHERE duration > %(seconds)s",
    {"seconds": 1},  # parameters, rendered into the SQL as escaped literals
    df_type="pandas",
    min_timestamp=today - timedelta(days=1),
    max_timestamp=today,
)
print(slow.dtypes)  # start_timestamp is datetime64[us, UTC], duration float64
print(slow.groupby("span_name")["duration"].describe())
# --8<-- [end:pandas]
assert str(slow["start_timestamp"].dtype) == "datetime64[us, UTC]"

# --8<-- [start:polars]
routes = hook.get_df(
    "SELECT http_route, http_response_status_code AS status, duration FROM records WHERE http_route IS NOT NULL",
    df_type="polars",
    min_timestamp=today - timedelta(days=1),
    max_timestamp=today,
    environment="prod",  # only rows whose deployment_environment is "prod"
    limit=5_000,  # get_df's default is the hook's limit, 10,000
)
print(
    routes.group_by("http_route")
    .agg(pl.len().alias("requests"), pl.col("duration").quantile(0.95).alias("p95_seconds"))
    .sort("requests", descending=True)
)
# --8<-- [end:polars]
assert routes.schema["status"] == pl.Int32


# --8<-- [start:async]
async def error_counts(hook: LogfireHook, day_end: datetime) -> dict[str, int]:
    """Errors per service in the day before `day_end`, its two halves queried concurrently."""
    settings = await hook.aget_settings()  # the connection, fetched without blocking the event loop
    print(f"Querying {settings.resolved_base_url}")
    sql = "SELECT service_name, count(*) AS n FROM records WHERE level >= 17 GROUP BY service_name"
    async with await hook.get_async_client() as client:
        first, second = await asyncio.gather(
            client.query_json_rows(
                sql, min_timestamp=day_end - timedelta(days=1), max_timestamp=day_end - timedelta(hours=12)
            ),
            client.query_json_rows(sql, min_timestamp=day_end - timedelta(hours=12), max_timestamp=day_end),
        )
    counts: dict[str, int] = {}
    for row in first["rows"] + second["rows"]:
        counts[row["service_name"]] = counts.get(row["service_name"], 0) + row["n"]
    return counts


print(asyncio.run(error_counts(LogfireHook(), today)))
# --8<-- [end:async]

whole_day = LogfireHook().query_json_rows(
    "SELECT count(*) AS n FROM records WHERE level >= 17",
    min_timestamp=today - timedelta(days=1),
    max_timestamp=today,
)
assert sum(asyncio.run(error_counts(LogfireHook(), today)).values()) == whole_day["rows"][0]["n"]
