"""PEP 249's exception hierarchy, and which of them each of the client's errors becomes.

    Warning (UserWarning)
    └── TruncatedResultWarning
    Error (LogfireError, so also Exception)
    ├── InterfaceError
    └── DatabaseError
        ├── DataError
        ├── OperationalError
        ├── IntegrityError
        ├── InternalError
        ├── ProgrammingError
        └── NotSupportedError

A DB-API user catches these, not the client's `Logfire*Error`s; the client's error stays
reachable as `__cause__` for whoever wants the HTTP status or the server's detail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_logfire.exceptions import (
    LogfireAPIError,
    LogfireBadRequestError,
    LogfireConfigError,
    LogfireDecodeError,
    LogfireError,
    LogfireQueryError,
    LogfireTransportError,
)


class Warning(UserWarning):
    """PEP 249's Warning; a `UserWarning` so that it can be issued and filtered with `warnings`."""


class TruncatedResultWarning(Warning):
    """A query returned exactly `limit` rows, so more may exist (the API has no truncation flag)."""


class Error(LogfireError):
    """Base class of every error this module raises; a `LogfireError` like all the provider's errors."""


class InterfaceError(Error):
    """Misuse of the interface or its configuration: closed objects, missing token, bad options."""


class DatabaseError(Error):
    """An error reported by, or while talking to, the Logfire query API."""


class DataError(DatabaseError):
    """A parameter cannot be written in Logfire SQL (NUL character, unpaired surrogate, NaN, infinity)."""


class OperationalError(DatabaseError):
    """The query could not run: token refused, rate limit, service or network failure."""


class IntegrityError(DatabaseError):
    """Part of PEP 249; never raised by a read-only API."""


class InternalError(DatabaseError):
    """Part of PEP 249; never raised here (service failures are `OperationalError`)."""


class ProgrammingError(DatabaseError):
    """The SQL or its parameters are wrong; a server-side failure carries the server's message."""


class NotSupportedError(DatabaseError):
    """The operation does not exist for a read-only query API (e.g. `rollback`)."""


def dbapi_error(error: LogfireError) -> Error:
    """The PEP 249 exception that says what `error` (one of the client's) means to a DB-API user."""
    if isinstance(error, LogfireConfigError):
        return InterfaceError(str(error))
    if isinstance(error, (LogfireQueryError, LogfireBadRequestError)):
        return ProgrammingError(str(error))
    if isinstance(error, (LogfireAPIError, LogfireTransportError, LogfireDecodeError)):
        return OperationalError(str(error))
    return DatabaseError(str(error))


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except LogfireError as exc:
        raise dbapi_error(exc) from exc
