"""gzip answer bodies are inflated by the clients themselves: ISA-L when installed, zlib otherwise."""

from __future__ import annotations

import asyncio
import gzip
import os
import sys

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.client import AsyncLogfireClient, LogfireClient
from airflow_provider_logfire.client.gzip_body import GzipBodyDecoder, gzip_decoder
from airflow_provider_logfire.client.retry import RetryPolicy
from airflow_provider_logfire.exceptions import LogfireIncompleteResponseError
from airflow_provider_logfire.local.faults import Fault

SQL = "SELECT * FROM records ORDER BY start_timestamp"


@pytest.fixture(params=["isal", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with ISA-L and again as if it were not installed."""
    if request.param == "zlib":
        monkeypatch.setitem(sys.modules, "isal", None)  # `from isal import ...` now raises ImportError
    return request.param


def test_the_inflater_is_isal_when_installed_and_zlib_otherwise(inflater: str) -> None:
    assert type(GzipBodyDecoder()._inflater).__module__ == {"isal": "isal_zlib", "zlib": "zlib"}[inflater]


def _decode_in_pieces(body: bytes, size: int) -> bytes:
    decoder = GzipBodyDecoder()
    out = b"".join(decoder.decode(body[i : i + size]) for i in range(0, len(body), size))
    return out + decoder.flush()


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 30])
def test_any_split_of_the_body_gives_the_same_bytes(inflater: str, piece: int) -> None:
    data = os.urandom(20_000) + b"logfire " * 5_000
    assert _decode_in_pieces(gzip.compress(data), piece) == data


def test_several_gzip_members_are_inflated_one_after_another(inflater: str) -> None:
    parts = [b"first member\n" * 100, b"", b"third member\n" * 50]
    body = b"".join(gzip.compress(part) for part in parts)
    assert _decode_in_pieces(body, 5) == b"".join(parts)


def test_a_body_cut_inside_a_member_is_refused(inflater: str) -> None:
    body = gzip.compress(os.urandom(5_000))
    decoder = GzipBodyDecoder()
    decoder.decode(body[:-10])
    with pytest.raises(httpx.DecodingError, match="ended inside a gzip member"):
        decoder.flush()


def test_a_body_that_is_not_gzip_is_refused(inflater: str) -> None:
    with pytest.raises(httpx.DecodingError, match="cannot be inflated"):
        GzipBodyDecoder().decode(b"this is not gzip at all")


@pytest.mark.parametrize(
    ("encoding", "handled"),
    [("gzip", True), ("GZIP", True), (None, False), ("br", False), ("gzip, br", False), ("identity", False)],
)
def test_only_a_body_encoded_by_gzip_alone_is_inflated_here(encoding: str | None, handled: bool) -> None:
    headers = httpx.Headers({} if encoding is None else {"Content-Encoding": encoding})
    assert (gzip_decoder(headers) is not None) is handled


def _uncompressed_page(server, day) -> pa.Table:
    response = httpx.post(
        f"{server.url}/v2/query",
        json={"sql": SQL, "min_timestamp": day["min_timestamp"].isoformat(), "limit": 10_000},
        headers={
            "Authorization": server.token,
            "Accept": "application/vnd.apache.arrow.stream",
            "Accept-Encoding": "identity",
        },
        timeout=30,
    )
    assert "content-encoding" not in response.headers
    return pa.ipc.open_stream(response.content).read_all()


def test_a_gzipped_arrow_page_decodes_to_the_uncompressed_answer(server, day, inflater: str) -> None:
    expected = _uncompressed_page(server, day)
    with LogfireClient.from_token(server.token, base_url=server.url) as sync_client:
        got = sync_client.query_arrow(SQL, min_timestamp=day["min_timestamp"], limit=10_000)

    async def fetch() -> pa.Table:
        async with AsyncLogfireClient.from_token(server.token, base_url=server.url) as client:
            return await client.query_arrow(SQL, min_timestamp=day["min_timestamp"], limit=10_000)

    assert expected.num_rows == 10_000
    assert got.equals(expected) and asyncio.run(fetch()).equals(expected)


def test_a_gzipped_body_cut_short_is_incomplete(proxy, server, day, inflater: str) -> None:
    proxy.inject(Fault.truncate(after_bytes=300_000))  # inside the gzipped first batch
    with (
        LogfireClient.from_token(server.token, base_url=proxy.url, retry=RetryPolicy.none()) as c,
        pytest.raises(LogfireIncompleteResponseError),
    ):
        c.query_arrow(SQL, limit=10_000, **day)
