"""writers.layout: the names of a file set's files, Hive escaping, and the checks at DAG parse."""

from __future__ import annotations

import pytest

from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.writers.layout import (
    HIVE_DEFAULT_PARTITION,
    SetLayout,
    check_layout,
    hive_escape,
)


@pytest.mark.parametrize(
    ("value", "folder"),
    [
        ("checkout", "checkout"),
        ("/api/orders/{id}", "%2Fapi%2Forders%2F%7Bid}"),
        ("a=b:c?d#e", "a%3Db%3Ac%3Fd%23e"),
        ("50%", "50%25"),
        ("tab\there", "tab%09here"),
        ("ünïcode and space", "ünïcode and space"),
        ("", HIVE_DEFAULT_PARTITION),
        (None, HIVE_DEFAULT_PARTITION),
    ],
)
def test_hive_escapes_what_hive_escapes(value: str | None, folder: str) -> None:
    assert hive_escape(value) == folder


def test_parts_are_numbered_from_zero_with_five_digits() -> None:
    layout = check_layout("s3://bucket/logfire/records-{part}.parquet", max_rows_per_file=10)
    assert layout.is_set
    assert [layout.file_name(n) for n in (0, 1, 12345)] == [
        "records-00000.parquet",
        "records-00001.parquet",
        "records-12345.parquet",
    ]


def test_a_plain_file_is_not_a_set_and_partitions_make_one() -> None:
    assert not check_layout("/data/records.parquet").is_set
    assert check_layout("/data/records.parquet", partition_by=["hour"]).is_set
    assert check_layout("/data/records-{part}.parquet").is_set


@pytest.mark.parametrize(
    ("destination", "options", "message"),
    [
        ("/data/records.parquet", {"max_rows_per_file": 5}, "needs a {part} placeholder"),
        ("/data/{part}/records.parquet", {"max_rows_per_file": 5}, "belongs in the destination's file name"),
        ("/data/r-{part}.parquet", {"max_rows_per_file": 0}, "max_rows_per_file must be a positive integer"),
        (
            "/data/r-{part}.parquet",
            {"max_rows_per_file": True},
            "max_rows_per_file must be a positive integer",
        ),
        ("/data/r.parquet", {"partition_by": "hour"}, "must be a list of keys"),
        ("/data/r.parquet", {"partition_by": ["hour", "hour"]}, "names a key twice"),
        ("/data/r.parquet", {"partition_by": ["a/b"]}, "partition_by keys must be"),
    ],
)
def test_bad_layouts_say_what_to_fix(destination: str, options: dict, message: str) -> None:
    with pytest.raises(LogfireConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_layout(destination, **options)


def test_layout_keeps_the_keys_in_order() -> None:
    assert SetLayout.of("r.parquet", partition_by=("day", "service_name")).partition_by == (
        "day",
        "service_name",
    )
