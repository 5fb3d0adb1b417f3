"""When to send a request again, and how long to wait first.

Shared by the sync and async clients: the policy decides, the caller only sleeps. Requests that
run side by side on one client also share a pause, so a 429 on one of them holds back the others
instead of letting them hammer a service that has just asked for quiet.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from airflow_provider_logfire.exceptions import (
    LogfireAPIError,
    LogfireConfigError,
    LogfireRateLimitError,
    LogfireServerError,
    LogfireTransportError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in total time.

    Only 429, 5xx and transport failures are retried; any other 4xx is final. A `Retry-After`
    from the server wins over the computed delay (capped by `max_delay`).
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    #: Give up when the next wait would end later than this many seconds after the first attempt.
    max_elapsed: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise LogfireConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise LogfireConfigError("retry delays must not be negative")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """The jittered delay after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        # "Equal jitter": at least half the exponential delay, so waits still grow.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class RetryState:
    """The retry bookkeeping of one logical request."""

    policy: RetryPolicy
    started: float = field(default_factory=time.monotonic)
    attempt: int = 0

    def delay_after(self, error: BaseException) -> float | None:
        """Seconds to wait before trying again, or None if `error` should be raised."""
        self.attempt += 1
        if not is_retryable(error) or self.attempt >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(self.attempt)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), self.policy.max_delay)
        if time.monotonic() - self.started + delay > self.policy.max_elapsed:
            return None
        return delay


def server_pause(error: BaseException) -> float | None:
    """How long everybody sharing the client should hold back after `error`, if at all."""
    if isinstance(error, (LogfireRateLimitError, LogfireServerError)) and error.retry_after:
        return error.retry_after
    if isinstance(error, LogfireRateLimitError):
        return 1.0
    return None


def is_retryable(error: BaseException) -> bool:
    """Whether a request that raised `error` is worth sending again."""
    if isinstance(error, LogfireTransportError):
        return True
    return isinstance(error, LogfireAPIError) and error.retryable


class SharedPause:
    """A "not before" time shared by the requests of one client (threads or tasks)."""

    def __init__(self) -> None:
        self._not_before = 0.0
        self._lock = threading.Lock()

    def extend(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self._not_before - time.monotonic())

    def wait(self) -> None:
        while (left := self.remaining()) > 0:
            time.sleep(left)

    async def wait_async(self) -> None:
        while (left := self.remaining()) > 0:
            await asyncio.sleep(left)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds or an HTTP date; None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
