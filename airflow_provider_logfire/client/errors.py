"""One exception hierarchy for everything that can go wrong talking to Logfire.

Each class says what happened, so callers (and Airflow task logs) can act on the type alone:
fix the SQL, fix the token or region, wait, or retry. Messages never contain the read token:
every message is built by this package from the status, the request target and the server's
own explanation, and the token is scrubbed from the server's text as a last line of defence.
"""

from __future__ import annotations

from typing import Any


class LogfireError(Exception):
    """Base class of every error raised by the provider's client."""


class LogfireConfigError(LogfireError, ValueError):
    """The client cannot be built or the request cannot be sent as configured.

    Raised before any network traffic: a missing token, an unknown region, plain `http://` to a
    remote host, a limit outside 1..10,000, a naive/invalid timestamp, an option that the chosen
    API version does not support.
    """


class LogfireTransportError(LogfireError):
    """The request never got an HTTP answer (DNS, connect, TLS, reset, timeout)."""

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.target = target


class LogfireDecodeError(LogfireError):
    """The server answered 200 but the body could not be decoded (or was cut off mid-stream)."""


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


def is_retryable(error: BaseException) -> bool:
    """Whether a request that raised `error` is worth sending again."""
    if isinstance(error, LogfireTransportError):
        return True
    return isinstance(error, LogfireAPIError) and error.retryable


class LogfireIncompleteResponseError(LogfireTransportError, LogfireDecodeError):
    """The body stopped before its end (connection lost mid-stream, Arrow stream without its end).

    Retryable as a whole request, but never to be taken as a short, complete result.
    """
