"""AsyncLogfireClient against the local server: the same answers as the sync client, and the same
behaviour when the connection is cut (through the fault proxy)."""

from __future__ import annotations

import asyncio
import csv
import inspect
import io

import pyarrow as pa
import pytest

from airflow_provider_logfire.client import (
    AsyncLogfireClient,
    LogfireClient,
    LogfireIncompleteResponseError,
    RetryPolicy,
)
from airflow_provider_logfire.local.faults import Fault

VERSIONS = ["v2", "v1"]
FAST = RetryPolicy(max_attempts=4, initial_delay=0.02, max_delay=2.0)
SQL = "SELECT * FROM records ORDER BY start_timestamp"
SERVICES_SQL = "SELECT service_name, count(*) AS n FROM records GROUP BY 1 ORDER BY 1"
CSV_SQL = "SELECT span_name, level, is_exception, exception_stacktrace FROM records ORDER BY start_timestamp"


def aclient(server, url=None, **settings) -> AsyncLogfireClient:
    return AsyncLogfireClient.from_token(server.token, base_url=url or server.url, **settings)


def sclient(server, **settings) -> LogfireClient:
    return LogfireClient.from_token(server.token, base_url=server.url, **settings)


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def test_async_client_has_every_public_method_of_the_sync_one():
    """`close` is spelled `aclose` (as in httpx); nothing else may be sync-only."""
    sync_only = public_methods(LogfireClient) - public_methods(AsyncLogfireClient)
    async_only = public_methods(AsyncLogfireClient) - public_methods(LogfireClient)
    assert (sync_only, async_only) == ({"close"}, {"aclose"})
    for name in public_methods(LogfireClient) - {"close", "from_token"}:
        sync_params = list(inspect.signature(getattr(LogfireClient, name)).parameters)
        async_params = list(inspect.signature(getattr(AsyncLogfireClient, name)).parameters)
        assert sync_params == async_params, name


def test_async_client_matches_sync(server, day):
    async def run():
        async with aclient(server) as c:
            info = await c.info()
            rows = await c.query_json_rows(SERVICES_SQL, **day)
            columns = await c.query_json(SERVICES_SQL, **day)
            table = await c.query_arrow("SELECT * FROM records", limit=3000, **day)
            streamed = [r async for r in c.iter_rows("SELECT span_id FROM records", limit=2500, **day)]
            csv_text = await c.query_csv(SERVICES_SQL, **day)
            return info, rows, columns, table, streamed, csv_text

    info, rows, columns, table, streamed, csv_text = asyncio.run(run())
    with sclient(server) as c:
        assert info == c.info()
        assert rows == c.query_json_rows(SERVICES_SQL, **day)
        assert columns == c.query_json(SERVICES_SQL, **day)
        assert csv_text == c.query_csv(SERVICES_SQL, **day)
    assert table.num_rows == 3000
    assert len(streamed) == 2500
    assert next(csv.reader(io.StringIO(csv_text))) == ["service_name", "n"]


@pytest.mark.parametrize("version", VERSIONS)
def test_iter_batches_streams_the_sync_clients_result(server, day, version):
    async def run():
        async with aclient(server, api_version=version) as c:
            return [batch async for batch in c.iter_batches(SQL, limit=10_000, **day)]

    batches = asyncio.run(run())
    with sclient(server, api_version=version) as c:
        table = c.query_arrow(SQL, limit=10_000, **day)
    assert len(batches) > 1, "a 10,000-row answer should arrive as several batches"
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
    assert pa.Table.from_batches(batches).equals(table)
    assert table.num_rows == 10_000


def test_iter_batches_of_an_empty_result_yields_nothing(server, day):
    async def run():
        async with aclient(server) as c:
            return [b async for b in c.iter_batches("SELECT span_id FROM records WHERE false", **day)]

    assert asyncio.run(run()) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_query_csv_to_file(server, day, version, tmp_path):
    target = tmp_path / "out" / "rows.csv"

    async def run():
        async with aclient(server, api_version=version) as c:
            return await c.query_csv_to_file(CSV_SQL, target, limit=2000, **day)

    written = asyncio.run(run())
    with sclient(server, api_version=version) as c:
        text = c.query_csv(CSV_SQL, limit=2000, **day)
    assert target.read_text() == text
    assert written == len(text.encode())
    assert len(list(csv.DictReader(io.StringIO(text)))) == 2000
    assert [p.name for p in target.parent.iterdir()] == ["rows.csv"], "no temporary file is left"


# -- cut connections (fault proxy) -----------------------------------------------------------------


def test_iter_batches_cut_after_the_first_batch_is_incomplete_not_replayed(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=700_000))  # past the first of several batches (gzip)
    received: list[int] = []

    async def run():
        async with aclient(server, proxy.url, retry=FAST) as c:
            async for batch in c.iter_batches(SQL, limit=10_000, **day):
                received.append(batch.num_rows)

    with pytest.raises(LogfireIncompleteResponseError):
        asyncio.run(run())
    assert 0 < sum(received) < 10_000
    assert proxy.requests == 1, "a stream that already yielded rows must not be silently restarted"


def test_iter_batches_cut_before_the_first_batch_is_retried_whole(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=1_000))

    async def run():
        async with aclient(server, proxy.url, retry=FAST) as c:
            return [batch.num_rows async for batch in c.iter_batches(SQL, limit=10_000, **day)]

    assert sum(asyncio.run(run())) == 10_000
    assert proxy.served["truncate"] == 1 and proxy.requests == 2


def test_query_arrow_cut_mid_stream_is_refetched_whole(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=200_000))

    async def run():
        async with aclient(server, proxy.url, retry=FAST) as c:
            return await c.query_arrow(SQL, limit=10_000, **day)

    assert asyncio.run(run()).num_rows == 10_000
    assert proxy.served["truncate"] == 1


def test_query_csv_to_file_cut_leaves_no_file(proxy, server, day, tmp_path):
    target = tmp_path / "rows.csv"
    proxy.inject(Fault.truncate(after_bytes=4_000))  # about half of the gzipped body

    async def run(retry):
        async with aclient(server, proxy.url, retry=retry) as c:
            return await c.query_csv_to_file(CSV_SQL, target, limit=5000, **day)

    with pytest.raises(LogfireIncompleteResponseError):
        asyncio.run(run(RetryPolicy.none()))
    assert list(tmp_path.iterdir()) == [], "neither the file nor its temporary may be left behind"

    proxy.inject(Fault.truncate(after_bytes=4_000))
    written = asyncio.run(run(FAST))
    with sclient(server) as c:
        assert target.read_text() == c.query_csv(CSV_SQL, limit=5000, **day)
    assert written == target.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_iter_rows_cut_mid_stream_is_incomplete(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=50_000))

    async def run():
        async with aclient(server, proxy.url, retry=RetryPolicy.none()) as c:
            return [row async for row in c.iter_rows(SQL, limit=10_000, **day)]

    with pytest.raises(LogfireIncompleteResponseError):
        asyncio.run(run())


def test_async_client_retries_the_same_way(proxy, server, day):
    proxy.inject(Fault.status_code(429, retry_after="0"), Fault.reset(), Fault.status_code(502))

    async def run():
        async with AsyncLogfireClient.from_token(server.token, base_url=proxy.url, retry=FAST) as c:
            return await c.query_json_rows("SELECT count(*) AS n FROM records", **day)

    assert asyncio.run(run())["rows"][0]["n"] > 0
    assert proxy.requests == 4
