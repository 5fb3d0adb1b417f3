"""Planning exact exports under the query API's 10,000-row page cap.

The API returns at most 10,000 rows per request and never says whether it cut a result. So an
exporter (1) counts rows per time bucket of its window with one aggregated query
(`choose_bucket`, `bucket_count_sql`), (2) packs buckets into pieces expected to stay under the
cap (`plan_pieces`), (3) fetches each piece with SQL that itself keeps exactly
`start <= time_column < end` (`piece_sql`), and (4) halves any piece that still comes back full
(`split_full_piece`). Counts only make the plan cheap; exactness comes from steps 3 and 4, so
late-arriving rows or odd server bound semantics can cost a request, never a row.

No Airflow and no database imports: everything here is strings and arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_logfire.client.protocol import EMPTY_SQL
from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.core.windows import (
    IndivisibleWindowError,
    TimeWindow,
    parse_timestamp,
)
from airflow_provider_logfire.exceptions import CrowdedInstantError, LogfireConfigError

__all__ = [
    "BOUND_PADDING",
    "BUCKET_COLUMN",
    "COUNT_COLUMN",
    "DEFAULT_TARGET_ROWS",
    "BucketSpec",
    "CrowdedInstantError",
    "PlannedPiece",
    "bucket_count_sql",
    "choose_bucket",
    "piece_sql",
    "plan_pieces",
    "quote_identifier",
    "request_bounds",
    "split_full_piece",
    "timestamp_literal",
]

#: Rows planned per piece: headroom under the API's page cap (`MAX_LIMIT`) for rows that land
#: between count and fetch.
DEFAULT_TARGET_ROWS = 9_000
#: Requests are sent with API bounds widened by this much on both sides while the SQL keeps the
#: exact edges (see `request_bounds`). A millisecond covers servers that compare at millisecond
#: precision.
BOUND_PADDING = timedelta(milliseconds=1)
#: Output columns of `bucket_count_sql`.
BUCKET_COLUMN = "bucket"
COUNT_COLUMN = "n"

#: A piece at least this full (as a share of the target) is closed at a bucket edge, where its
#: row count is exact; a less full one is topped up by cutting inside the next bucket instead.
_MIN_FILL = 0.9

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_UNITS: tuple[tuple[str, timedelta], ...] = (
    ("second", timedelta(seconds=1)),
    ("minute", timedelta(minutes=1)),
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
)
_UNIT_WIDTHS = dict(_UNITS)


@dataclass(frozen=True)
class BucketSpec:
    """A `date_trunc` unit and its fixed width; buckets are aligned to UTC (epoch) boundaries."""

    unit: str
    width: timedelta

    def __post_init__(self) -> None:
        if _UNIT_WIDTHS.get(self.unit) != self.width:
            known = ", ".join(f"{name}={width}" for name, width in _UNITS)
            raise LogfireConfigError(
                f"unknown bucket {self.unit!r} of width {self.width}; use one of {known}."
            )

    def window_of(self, bucket_start: Any, within: TimeWindow) -> TimeWindow | None:
        """`[bucket_start, bucket_start + width)` clipped to `within`, or None if they do not overlap.

        `bucket_start` may be a datetime or an ISO string, as a count query returns it.
        """
        start = parse_timestamp(bucket_start, name=BUCKET_COLUMN)
        lo = max(start, within.start)
        hi = min(start + self.width, within.end)
        return TimeWindow(lo, hi) if lo < hi else None


@dataclass(frozen=True)
class PlannedPiece:
    """A piece of the export window and the rows the counts lead us to expect in it."""

    window: TimeWindow
    expected_rows: int


def _buckets_spanned(window: TimeWindow, width: timedelta) -> int:
    first = (window.start - _EPOCH) // width
    last = (window.end - _MICROSECOND - _EPOCH) // width
    return last - first + 1


def choose_bucket(window: TimeWindow, max_buckets: int = MAX_LIMIT) -> BucketSpec:
    """The finest of second/minute/hour/day that cuts `window` into at most `max_buckets` buckets.

    The cap matters because the count query is itself subject to the API's page cap: more buckets
    than that would silently lose the latest counts.
    """
    if max_buckets < 1:
        raise LogfireConfigError(f"max_buckets must be at least 1, got {max_buckets}")
    for unit, width in _UNITS:
        if _buckets_spanned(window, width) <= max_buckets:
            return BucketSpec(unit, width)
    raise LogfireConfigError(
        f"the window {window} spans more than {max_buckets:,} days, too many to count in one query; "
        "export it in several shorter windows."
    )


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier (inner quotes doubled), valid in DataFusion (and DuckDB)."""
    if not name or "\x00" in name:
        raise LogfireConfigError(f"invalid column name {name!r}")
    return '"' + name.replace('"', '""') + '"'


def timestamp_literal(value: datetime) -> str:
    """An unambiguous UTC SQL literal with microseconds, e.g. `'2026-11-27T00:00:00.000000+00:00'`."""
    utc = parse_timestamp(value, name="timestamp")
    return "'" + utc.isoformat(timespec="microseconds") + "'"


def _code_end(sql: str) -> int:
    """Index just past the last character of `sql` that is neither whitespace, `;` nor a comment.

    A small lexer (quoted strings and identifiers, `--` and `/* */` comments) so that a `;` or
    `-- comment` after the statement, as `.sql` files often end, can be cut off before nesting.
    """
    end, i, size = 0, 0, len(sql)
    while i < size:
        char = sql[i]
        if char in "'\"":
            close = sql.find(char, i + 1)
            i = size if close < 0 else close + 1  # a doubled quote just reopens: same result
            end = i
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = size if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = size if close < 0 else close + 2
        else:
            if not char.isspace() and char != ";":
                end = i + 1
            i += 1
    return end


def nestable_sql(sql: str) -> str:
    """The user's SQL without the trailing `;`, whitespace and comments, ready to nest."""
    text = sql[: _code_end(sql)].strip()
    if not text:
        raise LogfireConfigError(EMPTY_SQL)
    return text


def _subquery(sql: str) -> str:
    # Newlines around the user's SQL so that a trailing `-- comment` cannot swallow the `)`.
    return f"FROM (\n{nestable_sql(sql)}\n) AS q"


def _range_filter(column: str, window: TimeWindow) -> str:
    return (
        f"WHERE {column} >= {timestamp_literal(window.start)} AND {column} < {timestamp_literal(window.end)}"
    )


def bucket_count_sql(
    inner_sql: str,
    *,
    time_column: str,
    unit: str,
    window: TimeWindow | None = None,
) -> str:
    """Rows of the user's query per `date_trunc(unit, time_column)` bucket, oldest first.

    Output columns are `bucket` and `n`. Give `window` to also count exactly `[start, end)`
    whatever the server's bounds do; without it the API bounds alone decide.
    """
    if unit not in _UNIT_WIDTHS:
        raise LogfireConfigError(f"unknown bucket unit {unit!r}; use one of {', '.join(_UNIT_WIDTHS)}")
    column = quote_identifier(time_column)
    lines = [
        f"SELECT date_trunc('{unit}', {column}) AS {BUCKET_COLUMN}, count(*) AS {COUNT_COLUMN}",
        _subquery(inner_sql),
    ]
    if window is not None:
        lines.append(_range_filter(column, window))
    lines += ["GROUP BY 1", "ORDER BY 1"]
    return "\n".join(lines)


def piece_sql(inner_sql: str, *, time_column: str, piece: TimeWindow, order: bool = True) -> str:
    """The user's query restricted, in SQL, to `piece.start <= time_column < piece.end`.

    Because the SQL itself holds the exact half-open bounds, the API's `min_timestamp`/
    `max_timestamp` only need to be a superset (see `request_bounds`): consecutive pieces then
    neither lose nor double a row at their shared edge, whatever the server's bound inclusivity.
    The user's query must expose `time_column` and should not carry its own LIMIT.
    """
    column = quote_identifier(time_column)
    lines = ["SELECT *", _subquery(inner_sql), _range_filter(column, piece)]
    if order:
        lines.append(f"ORDER BY {column}")
    return "\n".join(lines)


def request_bounds(piece: TimeWindow, padding: timedelta = BOUND_PADDING) -> tuple[datetime, datetime]:
    """API `min_timestamp`/`max_timestamp` that contain `piece` whether each bound is inclusive or not."""
    if padding < _MICROSECOND:
        raise LogfireConfigError(f"padding must be at least one microsecond, got {padding}")
    return piece.start - padding, piece.end + padding


def split_full_piece(piece_window: TimeWindow, *, limit: int = MAX_LIMIT) -> tuple[TimeWindow, TimeWindow]:
    """Halve a piece whose page came back full; `CrowdedInstantError` if it is one microsecond wide."""
    try:
        return piece_window.halves()
    except IndivisibleWindowError:
        instant = piece_window.start
        raise CrowdedInstantError(
            f"{limit:,} or more rows share the single timestamp {instant.isoformat(timespec='microseconds')}: "
            f"one request returns at most {limit:,} rows and there is no finer time to split at, so the "
            "export cannot page through them. Narrow the SQL: filter it (e.g. on service_name, span_name "
            "or level), aggregate those rows, or select DISTINCT ones.",
            instant=instant,
        ) from None


@dataclass
class _Segment:
    """A bucket clipped to the window, shrinking from the left as pieces are cut out of it."""

    start: datetime
    end: datetime
    rows: int


def _segments(
    window: TimeWindow, bucket_counts: Iterable[tuple[Any, int]], bucket: BucketSpec
) -> list[_Segment]:
    merged: dict[datetime, _Segment] = {}
    for bucket_start, count in bucket_counts:
        rows = int(count)
        if rows < 0:
            raise LogfireConfigError(f"bucket {bucket_start!r} has a negative row count: {count!r}")
        clipped = bucket.window_of(bucket_start, window)
        if clipped is None:  # outside the window, e.g. rows at `end` under an inclusive API bound
            continue
        if clipped.start in merged:
            merged[clipped.start].rows += rows
        else:
            merged[clipped.start] = _Segment(clipped.start, clipped.end, rows)
    return [merged[key] for key in sorted(merged)]


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def plan_pieces(
    window: TimeWindow,
    bucket_counts: Iterable[tuple[Any, int]],
    bucket: BucketSpec,
    *,
    target_rows: int = DEFAULT_TARGET_ROWS,
) -> list[PlannedPiece]:
    """Cut `window` into consecutive pieces expected to hold at most about `target_rows` rows each.

    Consecutive buckets are packed greedily. When the next bucket does not fit, a piece that is
    already at least 90 % full is closed at the bucket edge, where its count is exact; a less full
    piece is topped up to `target_rows` by cutting inside the bucket, assuming its rows are spread
    evenly. So a bucket with more than `target_rows` rows is sliced into equal stretches of time of
    `target_rows` expected rows each (down to one microsecond), and the total number of pieces stays
    about `rows / (0.9 * target_rows)` whatever the bucket size: whole-bucket packing alone would
    need up to twice that when buckets hold a large share of a piece.

    The pieces cover the window exactly, without gaps or overlaps, and their expected rows add up
    to the counted rows inside the window. Empty stretches belong to a neighbouring piece, so a
    window without rows is one piece. Buckets outside the window are ignored; buckets given twice
    are added up.
    """
    if target_rows < 1:
        raise LogfireConfigError(f"target_rows must be at least 1, got {target_rows}")
    min_fill = max(1, int(target_rows * _MIN_FILL))
    pieces: list[PlannedPiece] = []
    cursor, pending = window.start, 0  # the open piece starts at `cursor` and holds `pending` rows

    def close(end: datetime, rows: int) -> None:
        nonlocal cursor, pending
        pieces.append(PlannedPiece(TimeWindow(cursor, end), rows))
        cursor, pending = end, 0

    for seg in _segments(window, bucket_counts, bucket):
        seg.start = max(seg.start, cursor)
        while pending + seg.rows > target_rows and seg.end - seg.start > _MICROSECOND:
            if pending >= min_fill and seg.start > cursor:
                close(seg.start, pending)
                continue
            width = _micros(seg.end - seg.start)
            offset = width * (target_rows - pending) // seg.rows
            offset = min(max(offset, 1), width - 1)
            taken = (seg.rows * offset + width // 2) // width
            cut = seg.start + timedelta(microseconds=offset)
            close(cut, pending + taken)
            seg.start, seg.rows = cut, seg.rows - taken
        pending += seg.rows

    if pieces and pending == 0:  # fold a trailing empty stretch into the last piece
        last = pieces.pop()
        pieces.append(PlannedPiece(TimeWindow(last.window.start, window.end), last.expected_rows))
    elif cursor < window.end:
        close(window.end, pending)
    return pieces
