"""Which of the provider's errors no task retry can fix, turned into Airflow's non-retryable failure.

A typo in the SQL, a refused token or a bad option fails the same way on every try: with
`retries=3`, retrying only adds three retry delays before the inevitable failure. Those errors
become `AirflowFailException`, which Airflow never retries; everything else (rate limits, 5xx,
transport errors, an empty export that may fill later) is re-raised unchanged, so `retries` still
covers what time can fix. The sensor keeps its own version of this rule (it also decides between
failing and poking again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_logfire._airflow.compat import AirflowFailException
from airflow_provider_logfire.exceptions import (
    CrowdedInstantError,
    DestinationExistsError,
    LogfireAuthError,
    LogfireBadRequestError,
    LogfireConfigError,
    LogfireNotFoundError,
    LogfireQueryError,
)

#: Errors that fail the same way on every try: bad SQL, a refused token (or one of another
#: region), a wrong base URL, a parameter out of range, bad configuration (the window included),
#: rows that no time split can page through, and a destination that `if_exists="fail"` protects.
ERRORS_RETRIES_CANNOT_FIX: tuple[type[Exception], ...] = (
    LogfireQueryError,
    LogfireAuthError,
    LogfireNotFoundError,
    LogfireBadRequestError,
    LogfireConfigError,
    CrowdedInstantError,
    DestinationExistsError,
)


@contextmanager
def failures_that_retries_cannot_fix() -> Iterator[None]:
    """Fail the task at once, whatever `retries` says, when the error inside cannot go away.

    The failure keeps the original message (the server's own, for bad SQL; never the token, which
    the client's messages do not carry) and chains the original error, so the log shows both.
    """
    try:
        yield
    except ERRORS_RETRIES_CANNOT_FIX as exc:
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
