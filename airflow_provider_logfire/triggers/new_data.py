"""LogfireNewDataTrigger: an event trigger for `AssetWatcher`, firing once per batch of new telemetry.

Event-driven scheduling in Airflow 3: `Asset(..., watchers=[AssetWatcher(name, trigger)])` makes
the triggerer run the trigger for as long as the DAG exists; each event it yields becomes an
asset event (`extra={"from_trigger": True, "payload": <the event's payload>}`) and queues the DAGs
scheduled on the asset.

Why a class of its own rather than `LogfireDataAvailableTrigger`: that one answers a question about
one fixed window, fires once and ends, which is what a deferred sensor needs. A watcher must never
end, must not fire twice for the same rows, and cannot know a run's window; every argument of
the two would mean something different.

Constraints of event triggers, and how this one meets them:
- Its kwargs identify it (Airflow hashes them to tell watchers apart) and are serialised to the
  database: only the connection id and the plain `NewDataWatch` fields, never a token, never a
  value computed at parse time such as "now".
- No task or run context: the only state is the cursor (newest `created_at` reported), kept in
  memory and, where the triggerer provides one (Airflow 3.3+), in the asset's state store, so a
  restarted triggerer resumes after the last batch it reported instead of starting over.
- One event per new batch: the cursor moves past every row it reports (see `core.new_data`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


class LogfireNewDataTrigger(BaseEventTrigger):
    """Fire `{"table", "count", "min_timestamp", "since_created_at", "newest_created_at",
    "newest_<time column>"}` once per batch of new rows of `table` matching `where`.

    A new watcher first records the newest matching row as its starting point and fires nothing;
    after that every poll that finds rows inserted since the last batch fires one event. Rate
    limits, 5xx and network errors are waited out; a refused token or bad SQL raises, so the
    triggerer logs the server's message and the watcher stops instead of firing bogus events.

    :param logfire_conn_id: Connection of type `logfire` holding the read token.
    :param table: "records" (default) or "metrics".
    :param where: SQL condition the rows must match, e.g. `service_name = 'shop' AND level >= 'error'`.
    :param poll_interval: Seconds between polls (default 60).
    :param settle: Seconds a row must have been in Logfire before it counts (default 30), so that
        rows that become visible slightly out of insert order are not skipped.
    :param lookback: Seconds before now the API's `min_timestamp` is set to (default one day): new
        rows whose start time is older are not seen.
    :param environment: Deployment environment name(s) to watch, a list or comma-separated string.
    """

    def __init__(
        self,
        *,
        logfire_conn_id: str = "logfire_default",
        table: str = "records",
        where: str | None = None,
        poll_interval: float = 60.0,
        settle: float = 30.0,
        lookback: float = 86_400.0,
        environment: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        from airflow_provider_logfire.client.settings import parse_environments
        from airflow_provider_logfire.core.new_data import NewDataWatch

        environments = parse_environments(environment)
        # Checked now, so that a bad argument fails the DAG file, not the triggerer.
        NewDataWatch(
            table=table,
            where=where,
            settle=timedelta(seconds=settle),
            lookback=timedelta(seconds=lookback),
            environment=tuple(environments) if environments is not None else None,
        )
        self.logfire_conn_id = logfire_conn_id
        self.table = table
        self.where = where
        self.poll_interval = poll_interval
        self.settle = settle
        self.lookback = lookback
        self.environment = list(environments) if environments is not None else None
        self._cursor: datetime | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "logfire_conn_id": self.logfire_conn_id,
                "table": self.table,
                "where": self.where,
                "poll_interval": self.poll_interval,
                "settle": self.settle,
                "lookback": self.lookback,
                "environment": self.environment,
            },
        )

    @property
    def state_key(self) -> str:
        """The asset state store key of this watcher's cursor: one per distinct watch."""
        digest = hashlib.sha256(json.dumps(self.serialize()[1], sort_keys=True).encode()).hexdigest()
        return f"logfire_new_data_cursor_{digest[:16]}"

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_logfire.client import LogfireError
        from airflow_provider_logfire.client.retry import is_retryable
        from airflow_provider_logfire.core.new_data import NewDataWatch
        from airflow_provider_logfire.core.windows import parse_timestamp
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        watch = NewDataWatch(
            table=self.table,
            where=self.where,
            settle=timedelta(seconds=self.settle),
            lookback=timedelta(seconds=self.lookback),
            environment=tuple(self.environment) if self.environment is not None else None,
        )
        saved = await self._load_cursor()
        cursor = parse_timestamp(saved, name="cursor") if saved else self._cursor
        started = cursor is not None
        client = await LogfireHook(logfire_conn_id=self.logfire_conn_id).get_async_client()
        async with client:
            while True:
                query = watch.query(cursor, now=datetime.now(timezone.utc))
                try:
                    result = await client.query_json_rows(query.sql, **query.as_kwargs())
                except LogfireError as exc:
                    if not is_retryable(exc):
                        raise
                    self.log.warning("Logfire is unavailable for now (%s); polling again later", exc)
                else:
                    batch = watch.read(result["rows"])
                    if not started:
                        started = True
                        self.log.info("Watching %s from %s on", self.table, batch.newest_created_at)
                        cursor = batch.newest_created_at
                    elif batch.count:
                        self.log.info("%d new row(s) in %s since %s", batch.count, self.table, cursor)
                        yield TriggerEvent(
                            batch.payload(since=cursor, table=self.table, min_timestamp=query.min_timestamp)
                        )
                        cursor = batch.newest_created_at
                        await self._save_cursor(cursor)
                    self._cursor = cursor
                await asyncio.sleep(self.poll_interval)

    def _state_store(self) -> Any:
        """The asset's state store: Airflow 3.3's triggerer sets it; earlier ones have no such attribute."""
        return getattr(self, "asset_state_store", None)

    async def _load_cursor(self) -> str | None:
        store = self._state_store()
        if store is None:
            return None
        try:
            value = await store.aget(self.state_key)
        except Exception as exc:  # no state store backend, or several watched assets
            self.log.warning("No saved cursor (%s); starting from the newest row", exc)
            return None
        return value if isinstance(value, str) else None

    async def _save_cursor(self, cursor: datetime | None) -> None:
        store = self._state_store()
        if store is None or cursor is None:
            return
        try:
            await store.aset(self.state_key, cursor.isoformat())
        except Exception as exc:
            self.log.warning("Could not save the cursor (%s); a restart would start from the newest row", exc)
