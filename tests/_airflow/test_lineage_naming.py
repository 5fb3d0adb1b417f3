"""How lineage names things: the tables a query reads, the files an export writes, `logfire://` assets."""

from __future__ import annotations

import sys

import pytest

from airflow_provider_logfire._airflow import asset_uri
from airflow_provider_logfire._airflow.lineage import output_dataset_id, tables_read

QUERIES = [
    ("SELECT * FROM records", ["records"]),
    ("WITH e AS (SELECT * FROM records WHERE level >= 17) SELECT count(*) FROM e", ["records"]),
    (
        "SELECT r.span_name FROM records r JOIN metrics m ON r.service_name = m.service_name",
        ["records", "metrics"],
    ),
    ("SELECT * FROM records_all WHERE kind = 'pending_span'", ["records_all"]),
    ("SELECT 'FROM metrics' AS text, 1 FROM records -- JOIN metrics", ["records"]),
    ("SELECT 1", []),
]


@pytest.mark.parametrize(("sql", "tables"), QUERIES)
def test_tables_read_with_openlineages_parser(sql: str, tables: list[str]) -> None:
    assert sorted(tables_read(sql)) == sorted(tables)


@pytest.mark.parametrize(("sql", "tables"), QUERIES)
def test_tables_read_without_it(sql: str, tables: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where openlineage-sql is not installed, the fallback gives the same answer for these."""
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.sqlparser", None)
    assert sorted(tables_read(sql)) == sorted(tables)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/data/exports/day.parquet", ("file", "/data/exports/day.parquet")),
        ("file:///data/exports/day.parquet", ("file", "/data/exports/day.parquet")),
        (
            "s3://bucket/logfire/date=2026-11-27/records.parquet",
            ("s3://bucket", "logfire/date=2026-11-27/records.parquet"),
        ),
        ("s3a://bucket/a.csv", ("s3://bucket", "a.csv")),
        ("gs://bucket/a/b.jsonl", ("gs://bucket", "a/b.jsonl")),
        ("gcs://bucket/a/b.jsonl", ("gs://bucket", "a/b.jsonl")),
        ("abfs://container/dir/set", ("abfs://container", "dir/set")),
        ("memory://exports/day.arrow", ("memory://exports", "day.arrow")),
    ],
)
def test_output_dataset_id_follows_openlineage_naming(path: str, expected: tuple[str, str]) -> None:
    assert output_dataset_id(path) == expected


def test_logfire_asset_uri_round_trip_to_the_operators_dataset() -> None:
    from urllib.parse import urlsplit

    asset = asset_uri.create_asset(namespace="logfire://logfire-eu.pydantic.dev/acme/shop", table="records")
    assert asset.uri == "logfire://logfire-eu.pydantic.dev/acme/shop/records"
    dataset = asset_uri.convert_asset_to_openlineage(asset, None)
    assert (dataset.namespace, dataset.name) == ("logfire://logfire-eu.pydantic.dev/acme/shop", "records")
    assert asset_uri.sanitize_uri(urlsplit("logfire://h/o/p/records/")).path == "/o/p/records"
    for bad in ("logfire:///o/p/records", "logfire://h"):
        with pytest.raises(ValueError, match=r"logfire://<host>/<org>/<project>/<table>"):
            asset_uri.sanitize_uri(urlsplit(bad))
