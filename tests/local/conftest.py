"""Shared fixtures of the local server's tests: a small, known data set behind a real server.

The rows sit on purpose at the edges of the window [T0, T1): one a microsecond before T0, one
exactly at T0, one exactly at T1, so window tests see exactly which bounds are inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pyarrow as pa
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

T0 = datetime(2026, 11, 27, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)

#: (start_timestamp, message, deployment_environment, level) of the seeded records.
RECORDS = [
    (T0 - timedelta(microseconds=1), "before-window", "prod", 9),
    (T0, "at-min", "prod", 9),
    (T0 + timedelta(hours=1), "middle", "dev", 17),
    (T0 + timedelta(hours=2), "no-environment", None, 13),
    (T0 + timedelta(hours=3), "empty-environment", "", 9),
    (T1, "at-max", "prod", 9),
]
#: Messages of the records inside [T0, T1).
IN_WINDOW = ["at-min", "middle", "no-environment", "empty-environment"]

#: (recorded_timestamp, metric_name, scalar_value) of the seeded metrics.
METRICS = [
    (T0 - timedelta(seconds=1), "requests", 1.0),
    (T0, "requests", 2.0),
    (T0 + timedelta(hours=12), "requests", 3.0),
    (T1, "requests", 4.0),
]


def records_table() -> pa.Table:
    starts, messages, environments, levels = zip(*RECORDS, strict=True)
    return pa.table(
        {
            "start_timestamp": pa.array(starts, pa.timestamp("us", "UTC")),
            "end_timestamp": pa.array(
                [s + timedelta(milliseconds=5) for s in starts], pa.timestamp("us", "UTC")
            ),
            "duration": pa.array([0.005] * len(RECORDS)),
            "message": pa.array(messages),
            "span_name": pa.array(messages),
            "deployment_environment": pa.array(environments, pa.string()),
            "level": pa.array(levels, pa.int32()),
            "tags": pa.array([["seed", m] for m in messages], pa.list_(pa.string())),
            "attributes": pa.array([f'{{"n": {i}}}' for i in range(len(RECORDS))]),
            "is_exception": pa.array([level >= 17 for level in levels]),
            "service_name": pa.array(["shop"] * len(RECORDS)),
        }
    )


def metrics_table() -> pa.Table:
    recorded, names, values = zip(*METRICS, strict=True)
    return pa.table(
        {
            "recorded_timestamp": pa.array(recorded, pa.timestamp("us", "UTC")),
            "metric_name": pa.array(names),
            "scalar_value": pa.array(values),
            "histogram_explicit_bounds": pa.array([[0.5, 1.0]] * len(METRICS), pa.list_(pa.float64())),
        }
    )


def seed(engine: LocalEngine) -> LocalEngine:
    engine.insert_arrow("records", records_table())
    engine.insert_arrow("metrics", metrics_table())
    return engine


@pytest.fixture(scope="session")
def seeded_server() -> Iterator[LocalServer]:
    """One server over the seeded data for every test that only reads it."""
    with LocalEngine() as engine, run_local_server(seed(engine)) as server:
        yield server


@pytest.fixture
def client(seeded_server: LocalServer) -> Iterator[httpx.Client]:
    """An httpx client for the seeded server, sending the token as `Bearer`."""
    headers = {"Authorization": f"Bearer {seeded_server.token}"}
    with httpx.Client(base_url=seeded_server.url, headers=headers, timeout=30) as http:
        yield http


def window_body(sql: str, **extra: object) -> dict[str, object]:
    """A v2 request body over [T0, T1)."""
    return {"sql": sql, "min_timestamp": T0.isoformat(), "max_timestamp": T1.isoformat(), **extra}
