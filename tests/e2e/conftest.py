"""The end-to-end session: one real Airflow deployment shared by every test in `tests/e2e/`.

Not part of `make test` (pyproject's `norecursedirs` leaves this folder out); `make e2e` runs it.
Everything a run leaves (service logs, task logs, the Airflow home, exports, screenshots) is kept
in `.e2e/<UTC time>/` (or `$LOGFIRE_E2E_OUT`), printed at the start and the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.e2e.deployment import REPO, Deployment, start_deployment
from tests.e2e.examples import ExampleDags, start_example_dags


@pytest.fixture(scope="session")
def e2e_out() -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(os.environ.get("LOGFIRE_E2E_OUT") or REPO / ".e2e" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nend-to-end output: {out}")
    return out


@pytest.fixture(scope="session")
def deployment(e2e_out: Path) -> Iterator[Deployment]:
    """The running deployment; every process is stopped when the session ends, however it ends."""
    running = start_deployment(e2e_out)
    try:
        yield running
    finally:
        if running.api is not None:
            running.api.close()
        running.services.stop_all()
        print(f"\nend-to-end output kept in {e2e_out}")


@pytest.fixture(scope="session")
def example_dags(deployment: Deployment) -> ExampleDags:
    """The example DAGs, unpaused (see `examples.start_example_dags`)."""
    return start_example_dags(deployment)


@pytest.fixture(scope="session", autouse=True)
def _examples_run_alongside(request: pytest.FixtureRequest) -> None:
    """Unpause the examples before the first test when their test is selected, so that the
    scheduler runs them while the UI and sensor tests run: minutes less in all."""
    if any(
        item.nodeid.startswith("tests/e2e/test_example_dags_scheduled.py") for item in request.session.items
    ):
        request.getfixturevalue("example_dags")
