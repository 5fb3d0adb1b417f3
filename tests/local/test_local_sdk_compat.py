"""The official Logfire SDK, unchanged, against the local server: the proof of compatibility."""

from __future__ import annotations

import asyncio
import csv
import io
import warnings

import pytest
from logfire import db_api
from logfire.query_client import (
    AsyncLogfireQueryClient,
    LogfireQueryClient,
    QueryExecutionError,
    QueryRequestError,
)

from airflow_provider_logfire.local.testing import LocalServer

from .conftest import IN_WINDOW, T0, T1

SQL = "SELECT start_timestamp, message, tags, level FROM records ORDER BY start_timestamp"


def test_sync_client(seeded_server: LocalServer) -> None:
    with LogfireQueryClient(read_token=seeded_server.token, base_url=seeded_server.url) as client:
        assert client.info() == {"organization_name": "local", "project_name": "demo"}

        rows = client.query_json_rows(SQL, min_timestamp=T0, max_timestamp=T1)
        assert [c["name"] for c in rows["columns"]] == ["start_timestamp", "message", "tags", "level"]
        assert rows["columns"][0]["datatype"] == {"Timestamp": ["Microsecond", "UTC"]}
        assert rows["columns"][2]["datatype"] == {
            "List": {"name": "item", "datatype": "Utf8", "nullable": True}
        }
        assert [r["message"] for r in rows["rows"]] == IN_WINDOW
        assert rows["rows"][0]["start_timestamp"] == "2026-11-27T00:00:00.000000Z"

        table = client.query_arrow(SQL, min_timestamp=T0, max_timestamp=T1, environment="prod")
        assert table.column("message").to_pylist() == ["at-min"]

        text = client.query_csv(SQL, min_timestamp=T0.replace(tzinfo=None), max_timestamp=T1, limit=2)
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert [r["message"] for r in parsed] == IN_WINDOW[:2]


def test_sync_client_errors(seeded_server: LocalServer) -> None:
    with LogfireQueryClient(read_token=seeded_server.token, base_url=seeded_server.url) as client:
        with pytest.raises(QueryExecutionError, match="got DROP"):
            client.query_json_rows("DROP TABLE records", min_timestamp=T0)
        with pytest.raises(QueryRequestError, match="less than or equal to 10000"):
            client.query_json_rows(SQL, min_timestamp=T0, limit=10_001)


def test_async_client(seeded_server: LocalServer) -> None:
    async def run() -> tuple:
        async with AsyncLogfireQueryClient(
            read_token=seeded_server.token, base_url=seeded_server.url
        ) as client:
            return await asyncio.gather(
                client.info(),
                client.query_json_rows(SQL, min_timestamp=T0, max_timestamp=T1, environment=""),
                client.query_arrow(SQL, min_timestamp=T0, max_timestamp=T1),
                client.query_csv(SQL, min_timestamp=T0, max_timestamp=T1),
            )

    info, rows, table, text = asyncio.run(run())
    assert info["project_name"] == "demo"
    assert [r["message"] for r in rows["rows"]] == ["no-environment", "empty-environment"]
    assert table.column("message").to_pylist() == IN_WINDOW
    assert table.column("tags").to_pylist()[0] == ["seed", "at-min"]
    assert text.splitlines()[0] == "start_timestamp,message,tags,level"  # quoted only where needed


def test_db_api(seeded_server: LocalServer) -> None:
    with db_api.connect(
        read_token=seeded_server.token,
        base_url=seeded_server.url,
        min_timestamp=T0,
        max_timestamp=T1,
        limit=3,
    ) as connection:
        cursor = connection.cursor()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cursor.execute(
                "SELECT message, level FROM records WHERE level >= %(level)s ORDER BY start_timestamp",
                {"level": 9},
            )
        assert [d[0] for d in cursor.description] == ["message", "level"]
        assert cursor.description[1][1] == "Int32"
        assert cursor.fetchall() == [("at-min", 9), ("middle", 17), ("no-environment", 13)]
        assert any("limit" in str(w.message) for w in caught)  # 3 rows == limit: "there may be more"

        cursor.limit = 10
        cursor.execute("SELECT count(*) AS n FROM records")
        assert cursor.fetchone() == (len(IN_WINDOW),)
