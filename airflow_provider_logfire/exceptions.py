"""Every error the provider raises, in one hierarchy: catch `LogfireError` to catch them all.

    LogfireError
    ├── LogfireConfigError (ValueError) ........ bad configuration, found before anything is sent
    │   ├── LogfireArgumentTypeError (TypeError)  an argument of the wrong type
    │   ├── LogfireMissingExtraError (ImportError) an optional dependency is not installed
    │   └── WindowError ........................ the run's time window is missing or invalid
    │       └── IndivisibleWindowError ......... a one-microsecond window cannot be split
    ├── LogfireTransportError .................. no HTTP answer (DNS, connect, TLS, reset, timeout)
    │   └── LogfireIncompleteResponseError ..... the body stopped before its end (also a decode error)
    ├── LogfireDecodeError ..................... a 200 whose body cannot be decoded
    ├── LogfireAPIError ........................ the server answered with an error status
    │   ├── LogfireQueryError .................. 400 or an in-stream error: fix the SQL
    │   ├── LogfireAuthError ................... 401/403: wrong, expired or other-region token
    │   ├── LogfireUsageLimitError ............. 402: the organisation's usage limit
    │   ├── LogfireNotFoundError ............... 404: wrong base URL or API version
    │   ├── LogfireBadRequestError ............. 422: a parameter out of range
    │   ├── LogfireRateLimitError .............. 429 (retryable)
    │   └── LogfireServerError ................. 5xx or a proxy's error page (retryable)
    ├── CrowdedInstantError (ValueError) ....... a full page of rows shares one timestamp
    ├── EmptyExportError ....................... the window has no rows and `on_empty="fail"`
    ├── WriterError ............................ an export file cannot be written
    │   ├── DestinationError (OSError) ......... the destination cannot be written (path + reason)
    │   │   └── DestinationExistsError (FileExistsError)  and `if_exists="fail"`
    │   ├── SchemaMismatchError (ValueError) ... a batch does not fit the export's columns
    │   └── ExportStateError (RuntimeError) .... an export used after it was committed or aborted
    ├── LocalServerError ....................... the local server refused a request or its data
    │   (its subclasses live in `airflow_provider_logfire.local`: query, SQL guard, load, OTLP)
    └── dbapi.Error ............................ PEP 249's tree, in `airflow_provider_logfire.dbapi`

Each class also derives from the built-in exception a caller would naturally catch (shown in
brackets), so generic handlers keep working. Messages never contain the read token: they are built
from the status, the request target and the server's own explanation, and the token is scrubbed
from the server's text as a last line of defence. The Airflow tier turns these into Airflow's own
task signals (`AirflowFailException`, `AirflowSkipException`) where a task's state depends on it.

This module imports nothing, so every tier (the client, the core, the writers, the local server)
can raise from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "CrowdedInstantError",
    "DestinationError",
    "DestinationExistsError",
    "EmptyExportError",
    "ExportStateError",
    "IndivisibleWindowError",
    "LocalServerError",
    "LogfireAPIError",
    "LogfireArgumentTypeError",
    "LogfireAuthError",
    "LogfireBadRequestError",
    "LogfireConfigError",
    "LogfireDecodeError",
    "LogfireError",
    "LogfireIncompleteResponseError",
    "LogfireMissingExtraError",
    "LogfireNotFoundError",
    "LogfireQueryError",
    "LogfireRateLimitError",
    "LogfireServerError",
    "LogfireTransportError",
    "LogfireUsageLimitError",
    "SchemaMismatchError",
    "WindowError",
    "WriterError",
]


def _restore(cls: type[LogfireError], args: tuple[Any, ...], state: dict[str, Any]) -> LogfireError:
    """Rebuild a pickled or copied error without calling its `__init__` (whose signature varies)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class LogfireError(Exception):
    """Base class of every error raised by the provider."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments (status_code, instant, path...) would break the
        # default `cls(*args)`: pickling (multiprocessing, Airflow's triggerer) and copy.copy.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


# -- configuration ---------------------------------------------------------------------------------


class LogfireConfigError(LogfireError, ValueError):
    """Something cannot be built or sent as configured; raised before any network traffic.

    A missing token, an unknown region, plain `http://` to a remote host, a limit outside
    1..10,000, an unknown export format, an option the chosen API version does not support.
    """


class LogfireArgumentTypeError(LogfireConfigError, TypeError):
    """An argument of the wrong type (e.g. a destination that is neither a path nor a URL)."""


class LogfireMissingExtraError(LogfireConfigError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class WindowError(LogfireConfigError):
    """The time window cannot be determined or is invalid; the message says how to fix it."""


class IndivisibleWindowError(WindowError):
    """A window one microsecond wide cannot be split: timestamps have no finer resolution."""


# -- talking to Logfire ----------------------------------------------------------------------------


class LocalServerError(LogfireError):
    """Raised by the local Logfire-compatible server (`airflow_provider_logfire.local`) only."""


class LogfireTransportError(LogfireError):
    """The request never got an HTTP answer (DNS, connect, TLS, reset, timeout)."""

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.target = target


class LogfireDecodeError(LogfireError):
    """The server answered 200 but the body could not be decoded (or was cut off mid-stream)."""


class LogfireIncompleteResponseError(LogfireTransportError, LogfireDecodeError):
    """The body stopped before its end (connection lost mid-stream, Arrow stream without its end).

    Retryable as a whole request, but never to be taken as a short, complete result.
    """


class LogfireAPIError(LogfireError):
    """The server answered with an error status.

    `status_code` is the HTTP status; `detail` is the server's own explanation (already scrubbed),
    `target` the request line (`POST /v2/query`), never with credentials.
    """

    #: Whether the same request may succeed later.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: Any = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail
        self.target = target

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={str(self)!r})"


class LogfireQueryError(LogfireAPIError):
    """The query failed (HTTP 400, or an `error` line inside an NDJSON stream): fix the SQL."""


class LogfireAuthError(LogfireAPIError):
    """The read token was refused (HTTP 401/403): wrong, expired, or sent to the wrong region."""


class LogfireUsageLimitError(LogfireAPIError):
    """The organisation reached its usage limit (HTTP 402)."""


class LogfireBadRequestError(LogfireAPIError):
    """The request itself was invalid (HTTP 422), e.g. a parameter out of range."""


class LogfireNotFoundError(LogfireAPIError):
    """The endpoint does not exist on this base URL (HTTP 404): check the base URL and API version."""


class LogfireRateLimitError(LogfireAPIError):
    """Too many requests (HTTP 429). `retry_after` is the delay the server asked for, in seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class LogfireServerError(LogfireAPIError):
    """The service failed (HTTP 5xx, or a proxy's error page)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# -- results and exports ---------------------------------------------------------------------------


class CrowdedInstantError(LogfireError, ValueError):
    """A full page of rows shares one timestamp, so no time split can page through them."""

    def __init__(self, message: str, *, instant: datetime) -> None:
        super().__init__(message)
        self.instant = instant


class EmptyExportError(LogfireError):
    """The export's window holds no rows and the export was told to fail then (`on_empty="fail"`)."""


class WriterError(LogfireError):
    """Base class of every error raised by the writers."""


class DestinationError(WriterError, OSError):
    """The destination cannot be written: the message names the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write export to {path}: {reason}")
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        # OSError's own __str__ would ignore the message when errno is unset: keep ours.
        return str(self.args[0])


class DestinationExistsError(DestinationError, FileExistsError):
    """The destination already exists and `if_exists="fail"` forbids replacing it."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "the destination already exists (if_exists='fail')")


class SchemaMismatchError(WriterError, ValueError):
    """A batch does not fit the export's schema (missing, extra or incompatible column)."""


class ExportStateError(WriterError, RuntimeError):
    """An export was written to, committed or aborted after it had already ended or failed."""
