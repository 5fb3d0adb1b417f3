"""Event-driven: run as soon as new errors of the `checkout` service reach Logfire.

No schedule to guess: the asset `logfire_checkout_errors` has an `AssetWatcher` whose
`LogfireNewDataTrigger` runs in the triggerer, polls Logfire every minute, and fires once per
batch of new matching rows (never twice for the same rows). Each firing is an asset event whose
`extra["payload"]` holds the batch: `count`, `since_created_at` and `newest_created_at` (insert
times), `newest_start_timestamp` and the `min_timestamp` the poll used. The task reads exactly
that batch back from Logfire.

Needs a running triggerer (`airflow triggerer`) and the DAG unpaused. The connection is
`logfire_default` (e.g. env AIRFLOW_CONN_LOGFIRE_DEFAULT).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_logfire.triggers.new_data import LogfireNewDataTrigger

CHECKOUT_ERRORS_SQL = "service_name = 'checkout' AND level >= 'error'"
CHECKOUT_ERRORS = Asset(
    "logfire_checkout_errors",
    watchers=[
        AssetWatcher(
            name="logfire_checkout_errors_watcher",
            trigger=LogfireNewDataTrigger(where=CHECKOUT_ERRORS_SQL, poll_interval=60),
        )
    ],
)


@dag(
    schedule=[CHECKOUT_ERRORS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "assets", "event-driven"],
)
def logfire_new_errors():
    @task
    def summarise_new_errors(triggering_asset_events=None) -> dict:
        """The new errors of each batch that fired, by message: what an alert would say."""
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        events = triggering_asset_events.get(CHECKOUT_ERRORS, []) if triggering_asset_events else []
        batches = [event.extra["payload"] for event in events if event.extra.get("from_trigger")]
        hook, messages, total = LogfireHook(), {}, 0
        for batch in batches:
            since = f"AND created_at > '{batch['since_created_at']}' " if batch["since_created_at"] else ""
            rows = hook.query_json_rows(
                f"SELECT message, count(*) AS n FROM records WHERE {CHECKOUT_ERRORS_SQL} {since}"
                f"AND created_at <= '{batch['newest_created_at']}' GROUP BY message ORDER BY n DESC",
                min_timestamp=datetime.fromisoformat(batch["min_timestamp"]),  # the poll's own bound
                limit=100,
            )["rows"]
            for row in rows:
                messages[row["message"]] = messages.get(row["message"], 0) + row["n"]
            total += batch["count"]
        print(f"{len(batches)} batch(es), {total} new error(s): {messages}")
        return {"batches": len(batches), "errors": total, "messages": messages}

    summarise_new_errors()


logfire_new_errors()
