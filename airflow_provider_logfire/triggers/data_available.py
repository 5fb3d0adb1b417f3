"""LogfireDataAvailableTrigger: polls Logfire from the triggerer until a window's data has landed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class LogfireDataAvailableTrigger(BaseTrigger):
    """Fires `{"status": "success"}` once the check is satisfied, `{"status": "error"}` on a
    permanent failure (bad token, bad SQL). Rate limits, 5xx and network errors are waited out.

    Serialised with the connection id only: the read token never leaves the connection.

    :param logfire_conn_id: Connection of type `logfire`.
    :param check: `AvailabilityCheck.to_dict()` of the check to run.
    :param poll_interval: Seconds between checks.
    """

    def __init__(self, *, logfire_conn_id: str, check: dict[str, Any], poll_interval: float = 60.0) -> None:
        super().__init__()
        self.logfire_conn_id = logfire_conn_id
        self.check = check
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "logfire_conn_id": self.logfire_conn_id,
                "check": self.check,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_logfire.client import LogfireError
        from airflow_provider_logfire.client.retry import is_retryable
        from airflow_provider_logfire.core.availability import AvailabilityCheck
        from airflow_provider_logfire.hooks.logfire import LogfireHook

        check = AvailabilityCheck.from_dict(self.check)
        query = check.query()
        try:
            client = await LogfireHook(logfire_conn_id=self.logfire_conn_id).get_async_client()
        except LogfireError as exc:
            yield TriggerEvent({"status": "error", "message": str(exc)})
            return
        async with client:
            while True:
                try:
                    result = await client.query_json_rows(query.sql, **query.as_kwargs())
                except LogfireError as exc:
                    if not is_retryable(exc):
                        yield TriggerEvent({"status": "error", "message": str(exc)})
                        return
                    self.log.warning("Logfire is unavailable for now (%s); checking again later", exc)
                else:
                    done, description = check.evaluate(result["rows"])
                    self.log.info("Logfire data check: %s", description)
                    if done:
                        yield TriggerEvent({"status": "success", "message": description})
                        return
                await asyncio.sleep(self.poll_interval)
