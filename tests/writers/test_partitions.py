"""writers.partitions: each row's Hive folder, from a column or a unit of the time column."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from airflow_provider_logfire.exceptions import LogfireConfigError
from airflow_provider_logfire.writers.partitions import Partitioner

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 27, 8, 59, 59, tzinfo=UTC)


def _batch() -> pa.RecordBatch:
    times = [
        T0,
        T0 + dt.timedelta(seconds=1),
        T0 + dt.timedelta(seconds=2),
        T0 + dt.timedelta(hours=1, seconds=1),
    ]
    return pa.RecordBatch.from_pydict(
        {
            "start_timestamp": pa.array(times, pa.timestamp("us", "UTC")),
            "service_name": ["api", "api", None, "web"],
            "level": pa.array([9, 17, 9, 9], pa.int32()),
        }
    )


def test_time_units_cut_the_time_column_in_utc_and_keep_it() -> None:
    parts = list(Partitioner(("day", "hour"), "start_timestamp").split(_batch()))
    assert [(p.folder, rows.num_rows) for p, rows in parts] == [
        ("day=2026-11-27/hour=08", 1),
        ("day=2026-11-27/hour=09", 2),
        ("day=2026-11-27/hour=10", 1),
    ]
    assert all(rows.schema.names == ["start_timestamp", "service_name", "level"] for _, rows in parts)


def test_a_column_key_partitions_by_value_and_leaves_the_files() -> None:
    parts = {p.folder: rows for p, rows in Partitioner(("service_name",), "start_timestamp").split(_batch())}
    assert sorted(parts) == [
        "service_name=__HIVE_DEFAULT_PARTITION__",
        "service_name=api",
        "service_name=web",
    ]
    assert parts["service_name=api"].column("level").to_pylist() == [9, 17]
    assert all("service_name" not in rows.schema.names for rows in parts.values())


def test_a_column_named_like_a_time_unit_is_the_column() -> None:
    batch = _batch().append_column("day", pa.array([dt.date(2026, 1, 2)] * 4, pa.date32()))
    ((partition, rows),) = Partitioner(("day",), "start_timestamp").split(batch)
    assert partition.folder == "day=2026-01-02"
    assert "day" not in rows.schema.names


def test_unknown_keys_and_a_missing_time_column_are_explained() -> None:
    with pytest.raises(LogfireConfigError, match="neither a column of the query"):
        list(Partitioner(("route",), "start_timestamp").split(_batch()))
    with pytest.raises(LogfireConfigError, match="which the query does not return"):
        list(Partitioner(("hour",), "recorded_timestamp").split(_batch()))
