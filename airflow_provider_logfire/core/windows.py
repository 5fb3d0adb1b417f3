"""Time windows: the slice of time one Airflow run reads from Logfire.

Every operator sends its run's window as the query API's `min_timestamp`/`max_timestamp`, so the
window must always be real: bounded on both sides, non-empty and in UTC. This module owns that
value (`TimeWindow`), the lenient parsing of user-given timestamps (`parse_timestamp`) and the rules
that turn what a run knows about itself into a window (`resolve_window`). It imports no Airflow:
`airflow_provider_logfire._airflow.context` is the adapter that reads a task context and calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow_provider_logfire.exceptions import IndivisibleWindowError, LogfireArgumentTypeError, WindowError

__all__ = [
    "IndivisibleWindowError",
    "TimeWindow",
    "WindowError",
    "parse_timestamp",
    "resolve_window",
]

ONE_MICROSECOND = timedelta(microseconds=1)

_VALID_EXAMPLE = "'2026-11-27', '2026-11-27T00:00:00Z' or '2026-11-27T01:00:00+01:00'"

_ISO_8601 = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:
        [Tt\ ]
        (?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
        \s*
        (?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    )?
    """,
    re.VERBOSE,
)

_NO_FIX_HINT = (
    "Fix it in one of three ways: "
    "(1) give the DAG a timetable with data intervals, e.g. "
    "`from airflow.timetables.interval import CronDataIntervalTimetable` and "
    '`schedule=CronDataIntervalTimetable("@daily", timezone="UTC")`; '
    "(2) pass a window length, e.g. `window=timedelta(days=1)`, to read the period ending at the run's "
    "data interval end, logical date or run_after; "
    "(3) pass explicit `min_timestamp` and `max_timestamp` (Jinja templates are fine)."
)


def _utc(value: datetime) -> datetime:
    """Return `value` as a plain `datetime` in UTC (naive = UTC; pendulum and pandas subclasses dropped)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(timezone.utc)
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=timezone.utc,
    )


def _fmt(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class TimeWindow:
    """A half-open UTC interval `[start, end)`, never empty.

    Half-open so that consecutive windows tile time exactly: a row at `end` belongs to the next
    window, never to both. Bounds are stored as plain UTC `datetime` objects, so windows built
    from pendulum, pandas or offset-aware datetimes compare equal when they denote the same instants.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime):
                raise LogfireArgumentTypeError(
                    f"TimeWindow.{name} must be a datetime, got {type(value).__name__}: {value!r}"
                )
            if value.tzinfo is None or value.utcoffset() is None:
                raise WindowError(
                    f"TimeWindow.{name} must be timezone-aware, got naive {value.isoformat()}; "
                    "use parse_timestamp() or tzinfo=timezone.utc."
                )
            object.__setattr__(self, name, _utc(value))
        if not self.start < self.end:
            raise WindowError(
                f"a time window needs start < end, got start={_fmt(self.start)} and end={_fmt(self.end)}."
            )

    @classmethod
    def parse(cls, start: Any, end: Any) -> TimeWindow:
        """Build a window from anything `parse_timestamp` accepts, e.g. the pair from `isoformat()`."""
        return cls(parse_timestamp(start, name="start"), parse_timestamp(end, name="end"))

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, ts: datetime) -> bool:
        """Whether `ts` lies in `[start, end)`; a naive `ts` is taken as UTC."""
        return self.start <= _utc(ts) < self.end

    def split_at(self, ts: datetime) -> tuple[TimeWindow, TimeWindow]:
        """Cut into `[start, ts)` and `[ts, end)`; `ts` must lie strictly inside."""
        cut = _utc(ts)
        if not self.start < cut < self.end:
            raise WindowError(
                f"cannot split {self} at {_fmt(cut)}: the cut must lie strictly inside the window."
            )
        return TimeWindow(self.start, cut), TimeWindow(cut, self.end)

    def halves(self) -> tuple[TimeWindow, TimeWindow]:
        """Split at the midpoint, rounded down to a whole microsecond.

        Raises `IndivisibleWindowError` for a one-microsecond window, the finest resolution of
        timestamps: the caller must then handle "too many rows at one instant" itself.
        """
        if self.duration <= ONE_MICROSECOND:
            raise IndivisibleWindowError(
                f"the window {self} is one microsecond wide and cannot be split further."
            )
        return self.split_at(self.start + self.duration // 2)

    def isoformat(self) -> tuple[str, str]:
        """The bounds as ISO 8601 strings with a `+00:00` offset (XCom- and JSON-safe)."""
        return _fmt(self.start), _fmt(self.end)

    def __str__(self) -> str:
        return f"[{_fmt(self.start)}, {_fmt(self.end)}) ({self.duration})"


def parse_timestamp(value: Any, *, name: str) -> datetime:
    """Turn a user-given timestamp into an aware UTC `datetime`.

    Accepts a `datetime` (naive means UTC; pendulum/pandas subclasses become plain datetimes), a
    `date` (midnight UTC) or an ISO 8601 string (`2026-11-27`, `2026-11-27T00:00:00`, with `Z` or an
    offset, `T` or space separated, up to nanoseconds which are floored to microseconds). Written
    here rather than with `datetime.fromisoformat` so that Python 3.10 and 3.11+ accept the same inputs.
    `name` is the parameter being parsed, so that errors point at the right argument.
    """
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        parsed = _parse_iso(value.strip())
        if parsed is not None:
            return parsed
        raise WindowError(f"{name}={value!r} is not an ISO 8601 timestamp{_string_hint(value)}; {_valid()}")
    raise WindowError(f"{name}={value!r} ({type(value).__name__}) is not a timestamp; {_valid()}")


def _valid() -> str:
    return f"use a datetime or an ISO 8601 string such as {_VALID_EXAMPLE}."


def _string_hint(value: str) -> str:
    if not value.strip():
        return (
            " (it is empty: was it a Jinja template that rendered to nothing, such as"
            " '{{ data_interval_start }}' in a run without a logical date?)"
        )
    if value.strip() == "None":
        return " (a Jinja template rendered a None value, e.g. the logical date of a manual run)"
    return ""


def _parse_iso(text: str) -> datetime | None:
    match = _ISO_8601.fullmatch(text)
    if match is None:
        return None
    part = match.groupdict()
    fraction = (part["fraction"] or "").ljust(6, "0")[:6]
    try:
        parsed = datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int(fraction),
            tzinfo=_offset(part["offset"]),
        )
    except ValueError:  # month 13, hour 25, offset beyond ±24h...
        return None
    return _utc(parsed)


def _offset(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return timezone(sign * timedelta(minutes=minutes))


def _optional(value: Any, name: str) -> datetime | None:
    return None if value is None else parse_timestamp(value, name=name)


def _check_window_length(window: Any) -> timedelta | None:
    if window is None:
        return None
    if not isinstance(window, timedelta):
        raise WindowError(
            f"window={window!r} ({type(window).__name__}) must be a datetime.timedelta, "
            "e.g. window=timedelta(days=1)."
        )
    if window <= timedelta(0):
        raise WindowError(f"window={window!r} must be a positive timedelta, e.g. window=timedelta(days=1).")
    return window


def _window(start: datetime, end: datetime, start_from: str, end_from: str) -> TimeWindow:
    if not start < end:
        raise WindowError(
            f"the window is empty or reversed: {start_from} is {_fmt(start)} and {end_from} is {_fmt(end)}; "
            "the start must be strictly earlier than the end (the window is [start, end))."
        )
    return TimeWindow(start, end)


def _shift(anchor: datetime, delta: timedelta, what: str) -> datetime:
    try:
        return anchor + delta
    except OverflowError:
        raise WindowError(
            f"{what} ({_fmt(anchor)} {'+' if delta > timedelta(0) else '-'} {abs(delta)}) "
            "is outside the range of datetimes."
        ) from None


def resolve_window(
    *,
    min_timestamp: Any = None,
    max_timestamp: Any = None,
    data_interval_start: Any = None,
    data_interval_end: Any = None,
    logical_date: Any = None,
    run_after: Any = None,
    window: timedelta | None = None,
) -> TimeWindow:
    """Decide the window `[start, end)` a run reads. First matching rule wins:

    1. Explicit bounds (strings or datetimes, typically rendered Jinja):
       - both `min_timestamp` and `max_timestamp`: exactly `[min, max)`. Giving `window` too is an
         error, since it could not be honoured;
       - only `min_timestamp`: end at `min + window` if `window` is given, else at the run's data
         interval end, else its logical date, else its `run_after`;
       - only `max_timestamp`: start at `max - window` if `window` is given, else at the run's data
         interval start, else its logical date.
    2. A non-empty data interval (`start < end`): `[data_interval_start, data_interval_end)`.
       `window` does not override a real data interval: it is the fallback for runs without one.
    3. `window`: the period of that length ending at the data interval end, else the logical
       date, else `run_after`.
    4. Otherwise `WindowError`, explaining why (zero-width interval, as Airflow 3's default cron
       timetable gives; or a manual/asset-triggered run with no logical date) and how to fix it.

    The result is never empty or unbounded; `min >= max` and a non-positive `window` are errors.
    """
    low = _optional(min_timestamp, "min_timestamp")
    high = _optional(max_timestamp, "max_timestamp")
    interval_start = _optional(data_interval_start, "data_interval_start")
    interval_end = _optional(data_interval_end, "data_interval_end")
    logical = _optional(logical_date, "logical_date")
    after = _optional(run_after, "run_after")
    length = _check_window_length(window)

    if interval_start is not None and interval_end is not None and interval_start > interval_end:
        raise WindowError(
            f"the run's data interval is reversed: data_interval_start={_fmt(interval_start)} is later "
            f"than data_interval_end={_fmt(interval_end)}."
        )

    end_anchors = (("data_interval_end", interval_end), ("logical_date", logical), ("run_after", after))
    start_anchors = (("data_interval_start", interval_start), ("logical_date", logical))

    if low is not None and high is not None:
        if length is not None:
            raise WindowError(
                f"min_timestamp ({_fmt(low)}) and max_timestamp ({_fmt(high)}) already define the window, "
                f"so window={length!r} cannot be applied; pass either both bounds or window, not all three."
            )
        return _window(low, high, "min_timestamp", "max_timestamp")

    if low is not None:
        if length is not None:
            return _window(
                low, _shift(low, length, "min_timestamp + window"), "min_timestamp", "min_timestamp + window"
            )
        name, end = _first(end_anchors)
        if end is None:
            raise WindowError(
                f"only min_timestamp ({_fmt(low)}) is given and the run has no data interval, logical date or "
                "run_after to end the window at; pass max_timestamp or window=timedelta(...) as well."
            )
        return _window(low, end, "min_timestamp", name)

    if high is not None:
        if length is not None:
            return _window(
                _shift(high, -length, "max_timestamp - window"),
                high,
                "max_timestamp - window",
                "max_timestamp",
            )
        name, start = _first(start_anchors)
        if start is None:
            raise WindowError(
                f"only max_timestamp ({_fmt(high)}) is given and the run has no data interval or logical date "
                "to start the window at; pass min_timestamp or window=timedelta(...) as well."
            )
        return _window(start, high, name, "max_timestamp")

    if interval_start is not None and interval_end is not None and interval_start < interval_end:
        return TimeWindow(interval_start, interval_end)

    if length is not None:
        name, end = _first(end_anchors)
        if end is not None:
            return _window(_shift(end, -length, f"{name} - window"), end, f"{name} - window", name)

    raise WindowError(_no_window_reason(interval_start, interval_end, logical, after))


def _first(anchors: tuple[tuple[str, datetime | None], ...]) -> tuple[str, datetime | None]:
    for name, value in anchors:
        if value is not None:
            return name, value
    return "", None


def _no_window_reason(
    interval_start: datetime | None,
    interval_end: datetime | None,
    logical: datetime | None,
    after: datetime | None,
) -> str:
    if interval_start is not None and interval_start == interval_end:
        situation = (
            f"the run's data interval is zero-width ({_fmt(interval_start)} to {_fmt(interval_end)}), as "
            "Airflow 3's default CronTriggerTimetable gives for schedule='@daily', so it does not say "
            "which period of data to read"
        )
    elif logical is None and interval_start is None and interval_end is None:
        when = f" (run_after {_fmt(after)})" if after is not None else ""
        situation = (
            f"the run has no logical date and no data interval{when}, as for a manually triggered or "
            "asset-triggered run in Airflow 3, so there is no period of data to read"
        )
    else:
        situation = (
            "the run has no complete data interval "
            f"(data_interval_start={interval_start and _fmt(interval_start)}, "
            f"data_interval_end={interval_end and _fmt(interval_end)}, "
            f"logical_date={logical and _fmt(logical)})"
        )
    return f"Cannot decide which time window to query: {situation}. {_NO_FIX_HINT}"
