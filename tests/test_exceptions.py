"""The exception hierarchy: one root, the built-in bases users catch, and errors that survive pickling."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timezone

import pytest

from airflow_provider_logfire import dbapi, exceptions
from airflow_provider_logfire.exceptions import (
    CrowdedInstantError,
    DestinationError,
    DestinationExistsError,
    LogfireAPIError,
    LogfireError,
    LogfireRateLimitError,
    LogfireTransportError,
    WindowError,
)

INSTANT = datetime(2026, 11, 27, tzinfo=timezone.utc)
EXAMPLES = [
    DestinationError("/data/records.parquet", "disk full"),
    DestinationExistsError("/data/records.parquet"),
    LogfireAPIError("HTTP 418", status_code=418, detail={"detail": "teapot"}, target="POST /v2/query"),
    LogfireRateLimitError("HTTP 429", retry_after=3.0, status_code=429),
    LogfireTransportError("reset", target="POST /v2/query"),
    CrowdedInstantError("crowded", instant=INSTANT),
    WindowError("no window"),
    dbapi.ProgrammingError("bad SQL"),
]


def test_every_class_is_a_logfire_error() -> None:
    classes = [getattr(exceptions, name) for name in exceptions.__all__]
    assert all(issubclass(cls, LogfireError) for cls in classes)
    assert issubclass(dbapi.Error, LogfireError)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (exceptions.LogfireConfigError, ValueError),
        (exceptions.WindowError, ValueError),
        (exceptions.LogfireArgumentTypeError, TypeError),
        (exceptions.LogfireMissingExtraError, ImportError),
        (exceptions.DestinationError, OSError),
        (exceptions.DestinationExistsError, FileExistsError),
        (exceptions.SchemaMismatchError, ValueError),
        (exceptions.ExportStateError, RuntimeError),
        (exceptions.CrowdedInstantError, ValueError),
    ],
)
def test_the_builtin_bases_users_catch_are_kept(cls: type, builtin: type) -> None:
    assert issubclass(cls, builtin)


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("clone", [lambda e: pickle.loads(pickle.dumps(e)), copy.copy, copy.deepcopy])
def test_errors_survive_pickling_and_copying(error: LogfireError, clone) -> None:
    again = clone(error)
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert vars(again) == vars(error)
