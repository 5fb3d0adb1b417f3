"""TimeWindow, timestamp parsing and window resolution (no Airflow involved)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_logfire.core.windows import (
    IndivisibleWindowError,
    TimeWindow,
    WindowError,
    parse_timestamp,
    resolve_window,
)

UTC = timezone.utc
DAY = timedelta(days=1)
NOV27 = datetime(2026, 11, 27, tzinfo=UTC)
NOV28 = datetime(2026, 11, 28, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- TimeWindow -------------------------------------------------------------------------------------


def test_window_normalises_any_aware_datetime_to_plain_utc() -> None:
    paris = pendulum.datetime(2026, 11, 27, 1, tz="Europe/Paris")
    window = TimeWindow(paris, datetime(2026, 11, 28, 9, tzinfo=timezone(timedelta(hours=9))))
    assert window == TimeWindow(NOV27, NOV28)
    assert type(window.start) is datetime
    assert type(window.end) is datetime
    assert window.start.tzinfo is UTC
    assert window.end.tzinfo is UTC
    assert hash(window) == hash(TimeWindow(NOV27, NOV28))


@pytest.mark.parametrize(("start", "end"), [(NOV28, NOV27), (NOV27, NOV27)])
def test_window_rejects_empty_or_reversed_naming_both_bounds(start: datetime, end: datetime) -> None:
    with pytest.raises(WindowError) as info:
        TimeWindow(start, end)
    assert start.isoformat() in str(info.value)
    assert end.isoformat() in str(info.value)
    assert isinstance(info.value, ValueError)


def test_window_rejects_naive_and_non_datetime_bounds() -> None:
    with pytest.raises(WindowError, match="timezone-aware"):
        TimeWindow(datetime(2026, 11, 27), NOV28)
    with pytest.raises(TypeError, match="must be a datetime"):
        TimeWindow("2026-11-27", NOV28)  # type: ignore[arg-type]


def test_window_is_frozen() -> None:
    window = TimeWindow(NOV27, NOV28)
    with pytest.raises(AttributeError):
        window.start = NOV28  # type: ignore[misc]


def test_duration_and_half_open_contains() -> None:
    window = TimeWindow(NOV27, NOV28)
    assert window.duration == DAY
    assert window.contains(NOV27)
    assert window.contains(NOV28 - timedelta(microseconds=1))
    assert not window.contains(NOV28)
    assert not window.contains(NOV27 - timedelta(microseconds=1))
    assert window.contains(datetime(2026, 11, 27, 12))  # naive = UTC
    assert window.contains(pendulum.datetime(2026, 11, 28, 0, 30, tz="Europe/Paris"))  # 23:30 UTC


def test_split_at_cuts_strictly_inside_only() -> None:
    window = TimeWindow(NOV27, NOV28)
    noon = utc(2026, 11, 27, 12)
    left, right = window.split_at(noon)
    assert (left, right) == (TimeWindow(NOV27, noon), TimeWindow(noon, NOV28))
    for edge in (NOV27, NOV28, NOV28 + DAY):
        with pytest.raises(WindowError, match="strictly inside"):
            window.split_at(edge)


@pytest.mark.parametrize(
    ("width_us", "left_us"),
    [(2, 1), (3, 1), (5, 2), (86_400_000_001, 43_200_000_000)],
)
def test_halves_round_the_midpoint_down_to_whole_microseconds(width_us: int, left_us: int) -> None:
    window = TimeWindow(NOV27, NOV27 + timedelta(microseconds=width_us))
    left, right = window.halves()
    assert left.start == window.start
    assert right.end == window.end
    assert left.end == right.start == NOV27 + timedelta(microseconds=left_us)
    assert left.duration + right.duration == window.duration


def test_one_microsecond_window_cannot_be_halved() -> None:
    window = TimeWindow(NOV27, NOV27 + timedelta(microseconds=1))
    with pytest.raises(IndivisibleWindowError, match="one microsecond"):
        window.halves()


def test_isoformat_pair_round_trips_through_parse() -> None:
    window = TimeWindow(utc(2026, 11, 27, 0, 0, 0, 123), NOV28)
    pair = window.isoformat()
    assert pair == ("2026-11-27T00:00:00.000123+00:00", "2026-11-28T00:00:00+00:00")
    assert TimeWindow.parse(*pair) == window
    assert TimeWindow.parse("2026-11-27", "2026-11-28") == TimeWindow(NOV27, NOV28)


def test_str_is_readable_half_open_interval() -> None:
    text = str(TimeWindow(NOV27, NOV28))
    assert text == "[2026-11-27T00:00:00+00:00, 2026-11-28T00:00:00+00:00) (1 day, 0:00:00)"


# -- parse_timestamp --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27", NOV27),
        ("2026-11-27T00:00:00", NOV27),
        ("2026-11-27T00:00", NOV27),
        ("2026-11-27T00:00:00Z", NOV27),
        ("2026-11-27t00:00:00z", NOV27),
        ("2026-11-27 00:00:00+00:00", NOV27),  # what Jinja renders for {{ data_interval_start }}
        ("  2026-11-27T00:00:00+00:00\n", NOV27),
        ("2026-11-27T01:00:00+01:00", NOV27),
        ("2026-11-26T19:00:00-05:00", NOV27),
        ("2026-11-27T05:30:00+0530", NOV27),
        ("2026-11-27T05:30+05:30", NOV27),
        ("2026-11-27T05:00:00+05", NOV27),
        # An offset on a European DST day converts by the offset alone, no zone rules involved.
        ("2026-03-29T03:30:00+02:00", utc(2026, 3, 29, 1, 30)),
        ("2026-10-25T02:30:00+01:00", utc(2026, 10, 25, 1, 30)),
        ("2026-11-27T00:00:00.5Z", utc(2026, 11, 27, 0, 0, 0, 500_000)),
        ("2026-11-27T00:00:00,123456Z", utc(2026, 11, 27, 0, 0, 0, 123_456)),
        ("2026-11-27T00:00:00.123456789Z", utc(2026, 11, 27, 0, 0, 0, 123_456)),  # ns floored
        ("2026-11-27T23:59:59.999999-00:30", utc(2026, 11, 28, 0, 29, 59, 999_999)),
    ],
)
def test_parse_iso_strings_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, name="min_timestamp")
    assert parsed == expected
    assert type(parsed) is datetime
    assert parsed.tzinfo is UTC


def test_parse_datetimes_naive_aware_pendulum_and_dates() -> None:
    assert parse_timestamp(datetime(2026, 11, 27, 6), name="x") == utc(2026, 11, 27, 6)
    offset = datetime(2026, 11, 27, 6, tzinfo=timezone(timedelta(hours=-3)))
    assert parse_timestamp(offset, name="x") == utc(2026, 11, 27, 9)
    for value in (
        pendulum.datetime(2026, 11, 27, 1, tz="Europe/Paris"),
        pendulum.datetime(2026, 11, 27, tz="UTC"),
        pendulum.parse("2026-11-26T19:00:00-05:00"),
    ):
        parsed = parse_timestamp(value, name="x")
        assert parsed == NOV27
        assert type(parsed) is datetime
        assert parsed.tzinfo is UTC
    assert parse_timestamp(date(2026, 11, 27), name="x") == NOV27


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-01",
        "2026-11-27T25:00:00",
        "27/11/2026",
        "2026-11-27T00:00:00+25:00",
        "1764201600",
    ],
)
def test_parse_rejects_bad_strings_naming_parameter_value_and_example(value: str) -> None:
    with pytest.raises(WindowError) as info:
        parse_timestamp(value, name="max_timestamp")
    message = str(info.value)
    assert f"max_timestamp={value!r}" in message
    assert "2026-11-27T00:00:00Z" in message  # an example of a valid value


@pytest.mark.parametrize("value", [1764201600, 1.5, True, ["2026-11-27"], object()])
def test_parse_rejects_non_timestamps(value: object) -> None:
    with pytest.raises(WindowError, match=r"min_timestamp=.*is not a timestamp.*ISO 8601"):
        parse_timestamp(value, name="min_timestamp")


def test_parse_explains_templates_that_rendered_empty_or_none() -> None:
    with pytest.raises(WindowError, match="rendered to nothing"):
        parse_timestamp("  ", name="min_timestamp")
    with pytest.raises(WindowError, match="rendered a None"):
        parse_timestamp("None", name="min_timestamp")


# -- resolve_window ---------------------------------------------------------------------------------


def test_explicit_bounds_win_over_everything_else() -> None:
    window = resolve_window(
        min_timestamp="2026-11-27T06:00:00Z",
        max_timestamp=datetime(2026, 11, 27, 7),
        data_interval_start=NOV27 - DAY,
        data_interval_end=NOV27,
        logical_date=NOV27,
    )
    assert window == TimeWindow(utc(2026, 11, 27, 6), utc(2026, 11, 27, 7))


@pytest.mark.parametrize(("low", "high"), [(NOV28, NOV27), (NOV27, NOV27)])
def test_min_not_before_max_is_an_error_naming_both(low: datetime, high: datetime) -> None:
    with pytest.raises(WindowError) as info:
        resolve_window(min_timestamp=low, max_timestamp=high)
    message = str(info.value)
    assert "min_timestamp is 2026-11-2" in message
    assert "max_timestamp is 2026-11-2" in message
    assert low.isoformat() in message
    assert high.isoformat() in message


def test_both_bounds_and_window_together_are_ambiguous() -> None:
    with pytest.raises(WindowError, match="not all three"):
        resolve_window(min_timestamp=NOV27, max_timestamp=NOV28, window=DAY)


def test_only_min_uses_window_then_interval_end_then_logical_date_then_run_after() -> None:
    low = utc(2026, 11, 27, 6)
    assert resolve_window(
        min_timestamp=low, window=timedelta(hours=2), data_interval_end=NOV28
    ) == TimeWindow(low, utc(2026, 11, 27, 8))
    assert resolve_window(
        min_timestamp=low, data_interval_start=NOV27, data_interval_end=NOV28, logical_date=NOV27
    ) == TimeWindow(low, NOV28)
    assert resolve_window(min_timestamp=low, logical_date=NOV28, run_after=NOV28 + DAY) == TimeWindow(
        low, NOV28
    )
    assert resolve_window(min_timestamp=low, run_after=utc(2026, 11, 27, 9)) == TimeWindow(
        low, utc(2026, 11, 27, 9)
    )
    with pytest.raises(WindowError, match="only min_timestamp"):
        resolve_window(min_timestamp=low)
    with pytest.raises(WindowError, match=r"min_timestamp is .* and data_interval_end is"):
        resolve_window(min_timestamp=NOV28, data_interval_start=NOV27, data_interval_end=NOV28)


def test_only_max_uses_window_then_interval_start_then_logical_date() -> None:
    high = utc(2026, 11, 27, 18)
    assert resolve_window(max_timestamp=high, window=timedelta(hours=6)) == TimeWindow(
        utc(2026, 11, 27, 12), high
    )
    assert resolve_window(
        max_timestamp=high, data_interval_start=NOV27, data_interval_end=NOV28
    ) == TimeWindow(NOV27, high)
    assert resolve_window(max_timestamp=high, logical_date=NOV27) == TimeWindow(NOV27, high)
    with pytest.raises(WindowError, match="only max_timestamp"):
        resolve_window(max_timestamp=high, run_after=NOV27)


def test_non_empty_data_interval_is_the_window() -> None:
    start = pendulum.datetime(2026, 11, 27, tz="UTC")
    window = resolve_window(
        data_interval_start=start, data_interval_end=start.add(days=1), logical_date=start, run_after=NOV28
    )
    assert window == TimeWindow(NOV27, NOV28)
    # A real data interval is not overridden by the fallback window length.
    assert resolve_window(data_interval_start=NOV27, data_interval_end=NOV28, window=timedelta(hours=1)) == (
        TimeWindow(NOV27, NOV28)
    )


def test_window_ends_at_interval_end_else_logical_date_else_run_after() -> None:
    assert resolve_window(
        data_interval_start=NOV28, data_interval_end=NOV28, logical_date=NOV28, window=DAY
    ) == TimeWindow(NOV27, NOV28)
    assert resolve_window(logical_date=NOV28, run_after=NOV28 + DAY, window=DAY) == TimeWindow(NOV27, NOV28)
    run_after = utc(2026, 11, 28, 6, 15)
    assert resolve_window(run_after=run_after, window=timedelta(minutes=15)) == TimeWindow(
        utc(2026, 11, 28, 6), run_after
    )


def test_zero_width_interval_error_explains_and_names_all_three_fixes() -> None:
    with pytest.raises(WindowError) as info:
        resolve_window(
            data_interval_start=NOV27, data_interval_end=NOV27, logical_date=NOV27, run_after=NOV27
        )
    message = str(info.value)
    assert "zero-width (2026-11-27T00:00:00+00:00 to 2026-11-27T00:00:00+00:00)" in message
    assert "CronTriggerTimetable" in message
    assert "from airflow.timetables.interval import CronDataIntervalTimetable" in message
    assert 'schedule=CronDataIntervalTimetable("@daily", timezone="UTC")' in message
    assert "window=timedelta(days=1)" in message
    assert "min_timestamp" in message
    assert "max_timestamp" in message


def test_run_without_logical_date_error_mentions_manual_and_asset_runs() -> None:
    with pytest.raises(WindowError) as info:
        resolve_window(run_after=utc(2026, 11, 28, 6))
    message = str(info.value)
    assert "no logical date" in message
    assert "asset-triggered" in message
    assert "2026-11-28T06:00:00+00:00" in message
    assert "window=timedelta(days=1)" in message
    assert "CronDataIntervalTimetable" in message
    with pytest.raises(WindowError, match="no logical date"):
        resolve_window()


@pytest.mark.parametrize("bad", [timedelta(0), -DAY, 86400, "1d"])
def test_window_must_be_a_positive_timedelta(bad: object) -> None:
    with pytest.raises(WindowError, match=r"window=.*timedelta"):
        resolve_window(logical_date=NOV28, window=bad)  # type: ignore[arg-type]


def test_reversed_data_interval_and_overflowing_window_are_errors() -> None:
    with pytest.raises(WindowError, match="reversed"):
        resolve_window(data_interval_start=NOV28, data_interval_end=NOV27)
    with pytest.raises(WindowError, match="outside the range"):
        resolve_window(min_timestamp=datetime(9999, 12, 31, tzinfo=UTC), window=DAY * 2)


def test_bad_context_value_names_its_parameter() -> None:
    with pytest.raises(WindowError, match="data_interval_end='soon'"):
        resolve_window(data_interval_start=NOV27, data_interval_end="soon")


def test_resolved_windows_are_never_empty_or_unbounded() -> None:
    """Random mixes of inputs either fail with WindowError or give a bounded, non-empty window."""
    rng = random.Random(20261127)
    points = [None, NOV27, NOV28, NOV27 + timedelta(hours=6), "2026-11-27T12:00:00+02:00"]
    lengths = [None, DAY, timedelta(microseconds=1)]
    outcomes = {"window": 0, "error": 0}
    for _ in range(2000):
        kwargs = {
            key: rng.choice(points)
            for key in (
                "min_timestamp",
                "max_timestamp",
                "data_interval_start",
                "data_interval_end",
                "logical_date",
                "run_after",
            )
        }
        try:
            window = resolve_window(**kwargs, window=rng.choice(lengths))
        except WindowError:
            outcomes["error"] += 1
            continue
        outcomes["window"] += 1
        assert isinstance(window.start, datetime)
        assert isinstance(window.end, datetime)
        assert window.start < window.end
    assert outcomes["window"] > 100
    assert outcomes["error"] > 100
