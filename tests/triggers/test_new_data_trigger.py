"""LogfireNewDataTrigger's `run()` loop, as the triggerer drives it, against a local server
that receives new telemetry while it runs: over OTLP (as an instrumented app sends it) and through
the engine's loading API. One event per new batch, never twice for the same rows.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pyarrow as pa
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from airflow_provider_logfire.client import LogfireQueryError
from airflow_provider_logfire.core.new_data import NewDataWatch
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from airflow_provider_logfire.triggers.new_data import LogfireNewDataTrigger

TOKEN = "pylf_v1_us_NeWdAtAtRiGgEr7"
SHOP_ERRORS = "service_name = 'shop' AND level >= 'error'"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with LocalEngine() as engine, run_local_server(engine, token=TOKEN) as running:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LOGFIRE_DEFAULT",
            json.dumps({"conn_type": "logfire", "host": running.url, "password": TOKEN}),
        )
        yield running


def send_spans(server: LocalServer, service: str, errors: int, ok: int = 0) -> None:
    """POST one OTLP/HTTP trace export, as the Logfire SDK does: `errors` ERROR spans, `ok` fine ones."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    spans = resource.scope_spans.add()
    now = time.time_ns()
    for i in range(errors + ok):
        span = spans.spans.add(
            trace_id=(now + i).to_bytes(16, "big"),
            span_id=(i + 1).to_bytes(8, "big"),
            name="GET /checkout",
            start_time_unix_nano=now - 10**9,
            end_time_unix_nano=now,
        )
        if i < errors:
            span.status.code = Status.STATUS_CODE_ERROR
    response = httpx.post(
        f"{server.url}/v1/traces",
        content=request.SerializeToString(),
        headers={"Authorization": TOKEN, "Content-Type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def load_rows(
    server: LocalServer, service: str, levels: list[int], created_at: datetime | None = None
) -> None:
    """Rows through the engine's loading API (created now, unless `created_at` says otherwise)."""
    now = datetime.now(timezone.utc)
    data: dict[str, Any] = {
        "start_timestamp": pa.array([now - timedelta(minutes=5)] * len(levels), pa.timestamp("us", "UTC")),
        "service_name": [service] * len(levels),
        "level": pa.array(levels, pa.int32()),
    }
    if created_at is not None:
        data["created_at"] = pa.array([created_at] * len(levels), pa.timestamp("us", "UTC"))
    server.engine.insert_arrow("records", pa.table(data), keep_sorted=False)


class Watching:
    """The trigger's `run()` in a task of the running loop, its payloads collected as they fire."""

    def __init__(self, trigger: LogfireNewDataTrigger) -> None:
        self.trigger = trigger
        self.events: list[dict[str, Any]] = []
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Watching:
        async def consume() -> None:
            async for event in self.trigger.run():
                self.events.append(event.payload)

        self.task = asyncio.create_task(consume())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.task is not None
            if self.task.done():
                self.task.result()  # raise what ended it
            assert time.monotonic() < deadline, f"timed out; events so far: {self.events}"
            await asyncio.sleep(0.05)


def watch(**kwargs: Any) -> LogfireNewDataTrigger:
    return LogfireNewDataTrigger(**{"where": SHOP_ERRORS, "poll_interval": 0.1, "settle": 0, **kwargs})


def test_fires_once_per_new_batch_of_matching_telemetry(server: LocalServer) -> None:
    history = datetime.now(timezone.utc) - timedelta(hours=1)
    load_rows(server, "shop", [17, 17], created_at=history)  # there before the watcher: never fires

    async def scenario() -> list[dict[str, Any]]:
        async with Watching(watch()) as watching:
            await watching.until(lambda: watching.trigger._cursor is not None)  # the starting point
            await asyncio.sleep(0.5)
            assert watching.events == []

            # Batch 1 over OTLP: 3 shop errors; a fine shop span and another service's errors don't match.
            send_spans(server, "shop", errors=3, ok=1)
            send_spans(server, "billing", errors=2)
            await watching.until(lambda: len(watching.events) == 1)
            await asyncio.sleep(0.8)  # several polls: the same rows must not fire again
            assert len(watching.events) == 1

            # Batch 2 through the loading API: 2 errors, 1 info row.
            load_rows(server, "shop", [17, 21, 9])
            await watching.until(lambda: len(watching.events) == 2)
            await asyncio.sleep(0.8)
            return list(watching.events)

    first, second = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert first["count"] == 3 and second["count"] == 2
    assert first["table"] == "records"
    assert first["since_created_at"] == history.isoformat(timespec="microseconds")
    assert second["since_created_at"] == first["newest_created_at"]
    assert first["newest_created_at"] < second["newest_created_at"]
    assert first["newest_start_timestamp"] is not None
    assert datetime.fromisoformat(first["min_timestamp"]) < datetime.fromisoformat(
        first["newest_start_timestamp"]
    )


def test_settle_holds_a_batch_back_until_it_is_old_enough(server: LocalServer) -> None:
    async def scenario() -> tuple[list, float]:
        async with Watching(watch(settle=1.5)) as watching:
            await asyncio.sleep(0.5)  # the starting point: no matching rows yet
            load_rows(server, "shop", [17])
            loaded = time.monotonic()
            await asyncio.sleep(1.0)
            early = list(watching.events)
            await watching.until(lambda: len(watching.events) == 1)
            return early, time.monotonic() - loaded

    early, waited = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert early == [] and waited >= 1.5


class MemoryStateStore:
    """Stands in for Airflow's asset state store accessor (`aget`/`aset`), which needs a triggerer."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


def test_a_restarted_watcher_resumes_after_its_last_batch(server: LocalServer) -> None:
    store = MemoryStateStore()

    async def first_life() -> None:
        trigger = watch()
        trigger.asset_state_store = store
        async with Watching(trigger) as watching:
            await asyncio.sleep(0.5)
            load_rows(server, "shop", [17])
            await watching.until(lambda: len(watching.events) == 1)

    async def second_life() -> list[dict[str, Any]]:
        trigger = watch()  # same kwargs: the same watcher, as the triggerer re-creates it
        trigger.asset_state_store = store
        async with Watching(trigger) as watching:
            await watching.until(lambda: len(watching.events) == 1)
            await asyncio.sleep(0.5)
            return list(watching.events)

    asyncio.run(asyncio.wait_for(first_life(), 30))
    ((key, saved),) = store.values.items()
    load_rows(server, "shop", [17, 17])  # arrives while no triggerer runs
    (event,) = asyncio.run(asyncio.wait_for(second_life(), 30))
    assert event["count"] == 2  # the batch of the first life is not reported again
    assert datetime.fromisoformat(event["since_created_at"]) == datetime.fromisoformat(saved)
    assert store.values[key] == datetime.fromisoformat(event["newest_created_at"]).isoformat()


def test_bad_sql_stops_the_watcher_with_the_servers_message(server: LocalServer) -> None:
    async def scenario() -> None:
        async with Watching(watch(where="no_such_column = 1")) as watching:
            await watching.until(lambda: False, timeout=10)

    with pytest.raises(LogfireQueryError, match="no_such_column"):
        asyncio.run(asyncio.wait_for(scenario(), 30))


def test_serialises_stably_without_the_token() -> None:
    trigger = LogfireNewDataTrigger(where=SHOP_ERRORS, environment="prod, staging")
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_logfire.triggers.new_data.LogfireNewDataTrigger"
    assert kwargs["environment"] == ["prod", "staging"]
    again = LogfireNewDataTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)
    assert LogfireNewDataTrigger.hash(path, kwargs) == LogfireNewDataTrigger.hash(*again.serialize())
    assert again.state_key == trigger.state_key
    assert TOKEN not in json.dumps(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"table": "spans"}, "table must be one of"), ({"settle": -1}, "settle"), ({"lookback": 0}, "lookback")],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict, message: str) -> None:
    from airflow_provider_logfire.exceptions import LogfireConfigError

    with pytest.raises(LogfireConfigError, match=message):
        LogfireNewDataTrigger(**kwargs)


def test_the_poll_query_counts_after_the_cursor() -> None:
    cursor = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    now = cursor + timedelta(hours=1)
    query = NewDataWatch(where="level >= 'error'", lookback=timedelta(hours=6)).query(cursor, now=now)
    assert "created_at > '2026-11-27T12:00:00.000000+00:00'" in query.sql
    assert "created_at <= now() - INTERVAL '30000000 microseconds'" in query.sql
    assert "(level >= 'error')" in query.sql
    assert (query.min_timestamp, query.max_timestamp) == (now - timedelta(hours=6), None)


def test_constructing_it_in_a_dag_file_loads_no_heavy_library() -> None:
    probe = (
        "import sys, json\nimport airflow.sdk\nbefore = set(sys.modules)\n"
        "from airflow_provider_logfire.triggers.new_data import LogfireNewDataTrigger\n"
        "from airflow.sdk import Asset, AssetWatcher\n"
        "Asset('a', watchers=[AssetWatcher(name='w', trigger=LogfireNewDataTrigger(where='level >= 17'))])\n"
        "heavy = ('pyarrow', 'duckdb', 'datafusion', 'pandas', 'polars', 'numpy', 'fsspec')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before} & set(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_example_dags_task_reads_back_exactly_the_batch_that_fired(server: LocalServer) -> None:
    """`example_dags/logfire_new_errors.py`'s task, given the asset event a real firing makes."""
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    path = Path(__file__).resolve().parents[2] / "example_dags" / "logfire_new_errors.py"
    spec = importlib.util.spec_from_file_location("logfire_new_errors_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    load_rows(server, "checkout", [17], created_at=datetime.now(timezone.utc) - timedelta(hours=1))

    async def scenario() -> dict[str, Any]:
        trigger = LogfireNewDataTrigger(where=example.CHECKOUT_ERRORS_SQL, poll_interval=0.1, settle=0)
        async with Watching(trigger) as watching:
            await watching.until(lambda: watching.trigger._cursor is not None)
            load_rows(server, "checkout", [17, 17, 9])
            load_rows(server, "shop", [17])
            await watching.until(lambda: len(watching.events) == 1)
            return watching.events[0]

    payload = asyncio.run(asyncio.wait_for(scenario(), 60))
    event = SimpleNamespace(extra={"from_trigger": True, "payload": payload})  # as Airflow stores it
    task = example.logfire_new_errors().get_task("summarise_new_errors")
    summary = task.python_callable(
        triggering_asset_events=EventsByAsset({example.CHECKOUT_ERRORS.name: [event]})
    )
    # The two new checkout errors: not the old one, the info row or the other service's error.
    assert (summary["batches"], summary["errors"], sum(summary["messages"].values())) == (1, 2, 2)


class EventsByAsset(Mapping):
    """What Airflow hands a task as `triggering_asset_events`: events looked up by `Asset`.

    Keyed by the asset's name, since an `Asset` is no dict key on Airflow 3.0 (it is unhashable).
    """

    def __init__(self, events: dict[str, list[Any]]) -> None:
        self._events = events

    def __getitem__(self, asset: Any) -> list[Any]:
        return self._events[asset.name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)
