"""A local server with one known day of demo data, shared by the client's live tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.faults import FaultProxy, fault_proxy
from airflow_provider_logfire.local.testing import LocalServer, run_local_server

DAY_END = datetime(2026, 11, 27, tzinfo=timezone.utc)
DAY_START = DAY_END - timedelta(days=1)
ROWS_PER_DAY = 12_000
#: A read token that looks real, so that any leak of it is easy to find.
SECRET_TOKEN = "pylf_v1_us_Zq9SECRETtokenXy7"


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    engine = LocalEngine()
    engine.load_demo(days=2, rows_per_day=ROWS_PER_DAY, seed=7, end=DAY_END)
    with run_local_server(engine, token=SECRET_TOKEN) as running:
        yield running
    engine.close()


@pytest.fixture
def day() -> dict[str, datetime]:
    """Query keyword arguments for the seeded day."""
    return {"min_timestamp": DAY_START, "max_timestamp": DAY_END}


@pytest.fixture
def dataset() -> SimpleNamespace:
    """The facts of the seeded data set, for assertions."""
    return SimpleNamespace(start=DAY_START, end=DAY_END, rows_per_day=ROWS_PER_DAY, token=SECRET_TOKEN)


@pytest.fixture
def proxy(server: LocalServer) -> Iterator[FaultProxy]:
    """A TCP proxy in front of the server that injects the faults a test asks for."""
    with fault_proxy(server.url) as running:
        yield running
