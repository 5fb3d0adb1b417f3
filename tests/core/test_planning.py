"""Planning export pieces: bucket choice, SQL (run in a real DuckDB), packing and splitting."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from airflow_provider_logfire.client.settings import MAX_LIMIT
from airflow_provider_logfire.core.planning import (
    BOUND_PADDING,
    BucketSpec,
    CrowdedInstantError,
    PlannedPiece,
    bucket_count_sql,
    choose_bucket,
    piece_sql,
    plan_pieces,
    quote_identifier,
    request_bounds,
    split_full_piece,
    timestamp_literal,
)
from airflow_provider_logfire.core.windows import TimeWindow

UTC = timezone.utc
US = timedelta(microseconds=1)
NOV27 = datetime(2026, 11, 27, tzinfo=UTC)
DAY_WINDOW = TimeWindow(NOV27, NOV27 + timedelta(days=1))
MINUTE = BucketSpec("minute", timedelta(minutes=1))


def assert_tiles(window: TimeWindow, pieces: list[PlannedPiece]) -> None:
    """Pieces are contiguous, in order, and cover exactly the window."""
    assert pieces, "a plan always has at least one piece"
    assert pieces[0].window.start == window.start
    assert pieces[-1].window.end == window.end
    for before, after in itertools.pairwise(pieces):
        assert before.window.end == after.window.start


# -- choose_bucket / BucketSpec ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "unit"),
    [
        (timedelta(microseconds=1), "second"),
        (timedelta(hours=1), "second"),
        (timedelta(seconds=10_000), "second"),  # exactly 10,000 aligned seconds
        (timedelta(seconds=10_001), "minute"),
        (timedelta(days=1), "minute"),
        (timedelta(minutes=10_000), "minute"),
        (timedelta(days=7), "hour"),  # 10,080 minutes
        (timedelta(hours=10_001), "day"),
        (timedelta(days=10_000), "day"),
    ],
)
def test_choose_bucket_picks_the_finest_unit_that_fits(duration: timedelta, unit: str) -> None:
    spec = choose_bucket(TimeWindow(NOV27, NOV27 + duration))
    assert spec.unit == unit
    assert spec.width == {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit] * timedelta(seconds=1)


def test_choose_bucket_counts_partial_buckets_at_both_ends() -> None:
    # 10,000 seconds long but starting mid-second: it touches 10,001 one-second buckets.
    start = NOV27 + timedelta(milliseconds=500)
    assert choose_bucket(TimeWindow(start, start + timedelta(seconds=10_000))).unit == "minute"
    assert choose_bucket(TimeWindow(NOV27, NOV27 + timedelta(seconds=100)), max_buckets=100).unit == "second"
    assert choose_bucket(TimeWindow(NOV27, NOV27 + timedelta(seconds=101)), max_buckets=100).unit == "minute"


def test_choose_bucket_refuses_windows_too_long_to_count_at_once() -> None:
    with pytest.raises(ValueError, match="more than 10,000 days"):
        choose_bucket(TimeWindow(NOV27, NOV27 + timedelta(days=10_001)))


def test_bucket_window_is_clipped_to_the_export_window() -> None:
    window = TimeWindow(NOV27 + timedelta(seconds=30), NOV27 + timedelta(minutes=2, seconds=10))
    assert MINUTE.window_of(NOV27, window) == TimeWindow(window.start, NOV27 + timedelta(minutes=1))
    assert MINUTE.window_of("2026-11-27T00:01:00Z", window) == TimeWindow(
        NOV27 + timedelta(minutes=1), NOV27 + timedelta(minutes=2)
    )
    assert MINUTE.window_of(NOV27 + timedelta(minutes=2), window) == TimeWindow(
        NOV27 + timedelta(minutes=2), window.end
    )
    assert MINUTE.window_of(NOV27 + timedelta(minutes=3), window) is None
    assert MINUTE.window_of(NOV27 - timedelta(minutes=1), window) is None


def test_bucket_spec_rejects_unknown_units() -> None:
    with pytest.raises(ValueError, match="unknown bucket"):
        BucketSpec("week", timedelta(days=7))
    with pytest.raises(ValueError, match="unknown bucket"):
        BucketSpec("minute", timedelta(seconds=30))


# -- SQL text ---------------------------------------------------------------------------------------


def test_identifier_and_literal_formatting() -> None:
    assert quote_identifier("start_timestamp") == '"start_timestamp"'
    assert quote_identifier('we"ird') == '"we""ird"'
    with pytest.raises(ValueError, match="invalid column"):
        quote_identifier("")
    naive_utc = datetime(2026, 11, 27, 5)
    assert timestamp_literal(naive_utc) == "'2026-11-27T05:00:00.000000+00:00'"
    plus_one = datetime(2026, 11, 27, 1, 0, 0, 7, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp_literal(plus_one) == "'2026-11-27T00:00:00.000007+00:00'"


def test_bucket_count_sql_text_matches_the_documented_shape() -> None:
    sql = bucket_count_sql("SELECT * FROM records ;\n\n", time_column="start_timestamp", unit="minute")
    assert sql == (
        "SELECT date_trunc('minute', \"start_timestamp\") AS bucket, count(*) AS n\n"
        "FROM (\nSELECT * FROM records\n) AS q\nGROUP BY 1\nORDER BY 1"
    )
    with pytest.raises(ValueError, match="unknown bucket unit"):
        bucket_count_sql("SELECT 1", time_column="t", unit="minute'); DROP TABLE records; --")
    with pytest.raises(ValueError, match="empty"):
        bucket_count_sql(" ; ", time_column="t", unit="day")


def test_piece_sql_text_keeps_exact_half_open_bounds() -> None:
    piece = TimeWindow(NOV27, NOV27 + timedelta(hours=1))
    sql = piece_sql("SELECT * FROM records;", time_column="start_timestamp", piece=piece)
    assert sql.endswith(
        "WHERE \"start_timestamp\" >= '2026-11-27T00:00:00.000000+00:00' "
        "AND \"start_timestamp\" < '2026-11-27T01:00:00.000000+00:00'\n"
        'ORDER BY "start_timestamp"'
    )
    assert "ORDER BY" not in piece_sql("SELECT 1 AS t", time_column="t", piece=piece, order=False)


def test_request_bounds_are_a_strict_superset_of_the_piece() -> None:
    piece = TimeWindow(NOV27, NOV27 + timedelta(hours=1))
    low, high = request_bounds(piece)
    assert low == piece.start - BOUND_PADDING
    assert high == piece.end + BOUND_PADDING
    assert request_bounds(piece, US) == (piece.start - US, piece.end + US)
    with pytest.raises(ValueError, match="padding"):
        request_bounds(piece, timedelta(0))


# -- SQL run in a real DuckDB -----------------------------------------------------------------------


@pytest.fixture
def records() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory `records` table with rows placed on, just before and just after edges."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute('CREATE TABLE records (id INTEGER, start_timestamp TIMESTAMPTZ, "we""ird ts" TIMESTAMPTZ)')
    stamps = [
        NOV27 - US,  # before the window
        NOV27,  # exactly at the window start
        NOV27 + US,
        NOV27 + timedelta(seconds=59, microseconds=999_999),
        NOV27 + timedelta(minutes=1),  # on a bucket edge
        NOV27 + timedelta(minutes=1),  # twice
        NOV27 + timedelta(minutes=30, seconds=5),
        NOV27 + timedelta(hours=1) - US,
        NOV27 + timedelta(hours=1),  # exactly at the window end: excluded
        NOV27 + timedelta(hours=2),
    ]
    con.executemany("INSERT INTO records VALUES (?, ?, ?)", [(i, ts, ts) for i, ts in enumerate(stamps)])
    yield con
    con.close()


HOUR_WINDOW = TimeWindow(NOV27, NOV27 + timedelta(hours=1))
IN_HOUR_IDS = {1, 2, 3, 4, 5, 6, 7}


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> list[int]:
    return [row[0] for row in con.sql(sql).fetchall()]


def test_bucket_counts_in_duckdb(records: duckdb.DuckDBPyConnection) -> None:
    sql = bucket_count_sql(
        "SELECT * FROM records;  -- trailing comment;\n", time_column="start_timestamp", unit="minute"
    )
    rows = records.sql(sql).fetchall()
    counts = {bucket.astimezone(UTC): n for bucket, n in rows}
    assert counts == {
        NOV27 - timedelta(minutes=1): 1,
        NOV27: 3,
        NOV27 + timedelta(minutes=1): 2,
        NOV27 + timedelta(minutes=30): 1,
        NOV27 + timedelta(minutes=59): 1,
        NOV27 + timedelta(hours=1): 1,
        NOV27 + timedelta(hours=2): 1,
    }
    assert [bucket for bucket, _ in rows] == sorted(bucket for bucket, _ in rows)
    within = bucket_count_sql(
        "SELECT * FROM records", time_column="start_timestamp", unit="hour", window=HOUR_WINDOW
    )
    assert records.sql(within).fetchall() == [(NOV27, len(IN_HOUR_IDS))]


def test_piece_sql_in_duckdb_puts_every_edge_row_in_exactly_one_piece(
    records: duckdb.DuckDBPyConnection,
) -> None:
    minute = NOV27 + timedelta(minutes=1)
    edges = [
        NOV27,
        NOV27 + US,
        minute,
        minute + US,
        NOV27 + timedelta(minutes=30, seconds=5),
        HOUR_WINDOW.end,
    ]
    pieces = [TimeWindow(a, b) for a, b in itertools.pairwise(edges)]
    seen: list[int] = []
    for piece in pieces:
        seen += _ids(
            records,
            piece_sql("SELECT id, start_timestamp FROM records", time_column="start_timestamp", piece=piece),
        )
    assert sorted(seen) == sorted(IN_HOUR_IDS)
    assert len(seen) == len(set(seen))
    first = pieces[0]
    assert _ids(records, piece_sql("SELECT * FROM records", time_column="start_timestamp", piece=first)) == [
        1
    ]
    at_minute = TimeWindow(minute, minute + US)
    assert _ids(
        records, piece_sql("SELECT * FROM records", time_column="start_timestamp", piece=at_minute)
    ) == [4, 5]


def test_piece_sql_is_exact_whatever_the_session_time_zone(records: duckdb.DuckDBPyConnection) -> None:
    records.execute("SET TimeZone = 'America/St_Johns'")  # UTC-03:30: any local reading would shift rows
    sql = piece_sql("SELECT * FROM records", time_column="start_timestamp", piece=HOUR_WINDOW)
    assert _ids(records, sql) == sorted(IN_HOUR_IDS)


def test_piece_sql_quotes_odd_column_names_and_orders_rows(records: duckdb.DuckDBPyConnection) -> None:
    inner = 'SELECT id, "we""ird ts" FROM records ORDER BY id DESC'
    rows = records.sql(piece_sql(inner, time_column='we"ird ts', piece=HOUR_WINDOW)).fetchall()
    assert {row[0] for row in rows} == IN_HOUR_IDS
    stamps = [row[1] for row in rows]
    assert stamps == sorted(stamps)  # ordered by the time column, not by the inner ORDER BY
    assert len(rows) == len(IN_HOUR_IDS)
    counted = records.sql(bucket_count_sql(inner, time_column='we"ird ts', unit="hour", window=HOUR_WINDOW))
    assert counted.fetchall()[0][1] == len(IN_HOUR_IDS)


@pytest.mark.parametrize(
    "tail",
    [
        ";",
        " ;  -- the end;\n",
        "\n-- a comment line\n;\n/* block ; */\n",
        " /* ; */ ; -- x",
        "\n-- it's a comment with a quote\n",
    ],
)
def test_trailing_semicolons_and_comments_are_cut_before_nesting(
    records: duckdb.DuckDBPyConnection, tail: str
) -> None:
    inner = (
        "SELECT id, start_timestamp, 'a;b -- not a comment' AS s FROM records -- first line\nWHERE id < 100"
        + tail
    )
    rows = records.sql(piece_sql(inner, time_column="start_timestamp", piece=HOUR_WINDOW)).fetchall()
    assert {row[0] for row in rows} == IN_HOUR_IDS
    assert {row[2] for row in rows} == {"a;b -- not a comment"}
    counted = records.sql(bucket_count_sql(inner, time_column="start_timestamp", unit="day")).fetchall()
    assert sum(n for _, n in counted) == 10


# -- plan_pieces ------------------------------------------------------------------------------------


def test_empty_window_is_one_piece() -> None:
    assert plan_pieces(DAY_WINDOW, [], MINUTE) == [PlannedPiece(DAY_WINDOW, 0)]
    zeros = [(NOV27 + timedelta(minutes=m), 0) for m in range(0, 1440, 7)]
    assert plan_pieces(DAY_WINDOW, zeros, MINUTE) == [PlannedPiece(DAY_WINDOW, 0)]


def test_small_counts_pack_into_one_piece_and_outside_buckets_are_ignored() -> None:
    counts = [
        (NOV27 - timedelta(minutes=1), 500),  # before the window
        (NOV27 + timedelta(minutes=3), 100),
        ("2026-11-27T05:00:00+00:00", 200),
        (NOV27 + timedelta(minutes=3), 50),  # given twice: added up
        (DAY_WINDOW.end, 999),  # at the end: an inclusive API bound let it in
    ]
    assert plan_pieces(DAY_WINDOW, counts, MINUTE) == [PlannedPiece(DAY_WINDOW, 350)]


def test_packing_closes_well_filled_pieces_on_bucket_edges() -> None:
    counts = [(NOV27 + timedelta(minutes=m), 1_000) for m in range(30)]
    pieces = plan_pieces(DAY_WINDOW, counts, MINUTE, target_rows=9_000)
    assert_tiles(DAY_WINDOW, pieces)
    assert [p.expected_rows for p in pieces] == [9_000, 9_000, 9_000, 3_000]
    assert [p.window.end for p in pieces[:3]] == [NOV27 + timedelta(minutes=m) for m in (9, 18, 27)]


def test_under_filled_piece_is_topped_up_inside_the_next_bucket() -> None:
    counts = [(NOV27, 5_000), (NOV27 + timedelta(minutes=1), 6_000)]
    pieces = plan_pieces(DAY_WINDOW, counts, MINUTE, target_rows=9_000)
    assert_tiles(DAY_WINDOW, pieces)
    assert [p.expected_rows for p in pieces] == [9_000, 2_000]
    # 4,000 of the second minute's 6,000 rows: two thirds of the way into it.
    assert pieces[0].window.end == NOV27 + timedelta(minutes=1, seconds=40)


def test_crowded_bucket_is_sliced_into_equal_stretches_of_time() -> None:
    crowded = NOV27 + timedelta(hours=12)
    counts = [(NOV27 + timedelta(hours=1), 10), (crowded, 45_000), (NOV27 + timedelta(hours=20), 10)]
    pieces = plan_pieces(DAY_WINDOW, counts, MINUTE, target_rows=9_000)
    assert_tiles(DAY_WINDOW, pieces)
    assert sum(p.expected_rows for p in pieces) == 45_020
    inside = [p for p in pieces if crowded < p.window.end < crowded + timedelta(minutes=1)]
    assert len(inside) == 5  # the cuts inside the crowded minute
    assert all(p.expected_rows <= 9_000 for p in pieces)
    widths = [b.window.end - a.window.end for a, b in itertools.pairwise(inside)]
    assert max(widths) - min(widths) <= US  # equal stretches, to the microsecond
    assert min(widths) >= timedelta(seconds=11)


def test_crowded_bucket_is_split_down_to_microseconds() -> None:
    second = BucketSpec("second", timedelta(seconds=1))
    window = TimeWindow(NOV27, NOV27 + timedelta(seconds=2))
    pieces = plan_pieces(window, [(NOV27, 9_000_000)], second, target_rows=9_000)
    assert_tiles(window, pieces)
    assert len(pieces) == 1_000
    assert sum(p.expected_rows for p in pieces) == 9_000_000
    assert {p.window.duration for p in pieces[:-1]} == {timedelta(milliseconds=1)}


def test_rows_crowded_in_fewer_microseconds_than_pieces_still_tile() -> None:
    window = TimeWindow(NOV27, NOV27 + timedelta(microseconds=3))
    second = BucketSpec("second", timedelta(seconds=1))
    pieces = plan_pieces(window, [(NOV27, 1_000_000)], second, target_rows=9_000)
    assert_tiles(window, pieces)
    assert len(pieces) == 3
    assert sum(p.expected_rows for p in pieces) == 1_000_000


@pytest.mark.parametrize("seed", range(40))
def test_random_plans_tile_the_window_and_keep_every_counted_row(seed: int) -> None:
    rng = random.Random(seed)
    start = NOV27 + timedelta(seconds=rng.randrange(86_400), microseconds=rng.randrange(1_000_000))
    window = TimeWindow(start, start + timedelta(seconds=rng.randrange(1, 3 * 86_400)))
    bucket = choose_bucket(window)
    first = window.start - (window.start - datetime(1970, 1, 1, tzinfo=UTC)) % bucket.width
    starts = [first + i * bucket.width for i in range(math.ceil(window.duration / bucket.width) + 1)]
    shape = rng.choice(["sparse", "dense", "bursty"])
    counts = []
    for bucket_start in starts:
        if shape == "sparse" and rng.random() < 0.9:
            continue
        n = rng.randrange(0, 300) if shape != "bursty" else rng.choice([0, 0, 5, 20_000, 100_000])
        counts.append((bucket_start, n))
    rng.shuffle(counts)
    target = rng.choice([100, 1_000, 9_000])
    pieces = plan_pieces(window, counts, bucket, target_rows=target)
    assert_tiles(window, pieces)
    expected_total = sum(n for s, n in counts if bucket.window_of(s, window) is not None)
    assert sum(p.expected_rows for p in pieces) == expected_total
    assert all(p.expected_rows <= target for p in pieces)
    if expected_total:
        assert all(p.expected_rows > 0 for p in pieces), "empty stretches fold into neighbouring pieces"


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="target_rows"):
        plan_pieces(DAY_WINDOW, [], MINUTE, target_rows=0)
    with pytest.raises(ValueError, match="negative"):
        plan_pieces(DAY_WINDOW, [(NOV27, -1)], MINUTE)


# -- splitting full pieces --------------------------------------------------------------------------


def test_split_full_piece_halves() -> None:
    piece = TimeWindow(NOV27, NOV27 + timedelta(microseconds=3))
    left, right = split_full_piece(piece)
    assert (left.end, right.start) == (NOV27 + US, NOV27 + US)


def test_split_full_piece_of_one_microsecond_is_a_crowded_instant() -> None:
    instant = NOV27 + timedelta(hours=3, microseconds=42)
    with pytest.raises(CrowdedInstantError) as info:
        split_full_piece(TimeWindow(instant, instant + US))
    assert isinstance(info.value, ValueError)
    assert info.value.instant == instant
    message = str(info.value)
    assert "10,000 or more rows share the single timestamp 2026-11-27T03:00:00.000042+00:00" in message
    assert "Narrow the SQL" in message


# -- the exporter loop, end to end ------------------------------------------------------------------


def run_export(
    window: TimeWindow,
    count_buckets: Callable[[BucketSpec], list[tuple[datetime, int]]],
    fetch: Callable[[TimeWindow], int],
) -> tuple[int, int]:
    """The exporter's algorithm: one count request, then pieces, halving any that comes back full.

    Returns (requests, rows fetched).
    """
    bucket = choose_bucket(window)
    pending = [p.window for p in plan_pieces(window, count_buckets(bucket), bucket)]
    requests, rows = 1, 0
    while pending:
        piece = pending.pop(0)
        requests += 1
        got = fetch(piece)
        if got >= MAX_LIMIT:
            pending[:0] = split_full_piece(piece)
        else:
            rows += got
    return requests, rows


def _micros(ts: datetime) -> int:
    return (ts - DAY_WINDOW.start) // US


@pytest.mark.parametrize(
    "total", [0, 1, 9_000, 10_000, 123_457, 1_000_000, 5_000_000, 15_000_000, 60_000_000]
)
def test_request_count_bound_on_an_evenly_spread_day(total: int) -> None:
    """Row k lands at microsecond floor(k * D / N) of the day; counting rows in a range is exact."""
    span = _micros(DAY_WINDOW.end)

    def rows_in(a: int, b: int) -> int:
        return max(0, min(total, -(-b * total // span)) - max(0, -(-a * total // span)))

    def count_buckets(bucket: BucketSpec) -> list[tuple[datetime, int]]:
        width = bucket.width // US
        return [(NOV27 + timedelta(microseconds=a), rows_in(a, a + width)) for a in range(0, span, width)]

    def fetch(piece: TimeWindow) -> int:
        return min(MAX_LIMIT, rows_in(_micros(piece.start), _micros(piece.end)))

    requests, rows = run_export(DAY_WINDOW, count_buckets, fetch)
    assert rows == total
    assert requests <= 1.25 * math.ceil(total / MAX_LIMIT) + 2


def test_late_rows_cost_splits_but_are_never_lost() -> None:
    """Counts taken before half again as many rows arrived: full pages are halved and refetched."""
    span = _micros(DAY_WINDOW.end)
    counted, actual = 400_000, 600_000

    def rows_in(total: int, a: int, b: int) -> int:
        return -(-b * total // span) - -(-a * total // span)

    def count_buckets(bucket: BucketSpec) -> list[tuple[datetime, int]]:
        width = bucket.width // US
        return [
            (NOV27 + timedelta(microseconds=a), rows_in(counted, a, a + width)) for a in range(0, span, width)
        ]

    requests, rows = run_export(
        DAY_WINDOW, count_buckets, lambda p: min(MAX_LIMIT, rows_in(actual, _micros(p.start), _micros(p.end)))
    )
    assert rows == actual
    assert requests > math.ceil(counted / 9_000) + 1  # some pieces came back full and were split


def _duckdb_export(con: duckdb.DuckDBPyConnection, user_sql: str) -> tuple[int, list[int], list[int]]:
    """Run the exporter loop against DuckDB; returns (requests, ids fetched, ids expected)."""
    fetched: list[int] = []

    def count_buckets(bucket: BucketSpec) -> list[tuple[datetime, int]]:
        return con.sql(bucket_count_sql(user_sql, time_column="start_timestamp", unit=bucket.unit)).fetchall()

    def fetch(piece: TimeWindow) -> int:
        sql = piece_sql(user_sql, time_column="start_timestamp", piece=piece) + f"\nLIMIT {MAX_LIMIT}"
        ids = _ids(con, sql)
        if len(ids) < MAX_LIMIT:
            fetched.extend(ids)
        return len(ids)

    requests, rows = run_export(DAY_WINDOW, count_buckets, fetch)
    assert rows == len(fetched)
    expected = _ids(
        con,
        "SELECT id FROM records WHERE start_timestamp >= TIMESTAMPTZ '2026-11-27 00:00:00+00' "
        "AND start_timestamp < TIMESTAMPTZ '2026-11-28 00:00:00+00' ORDER BY id",
    )
    return requests, sorted(fetched), expected


@pytest.fixture
def day_of_records() -> Iterator[duckdb.DuckDBPyConnection]:
    """180,000 rows spread at random over the day, plus rows on every minute edge and both window edges."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"""
        CREATE TABLE records AS
        SELECT i AS id, TIMESTAMPTZ '2026-11-27 00:00:00+00'
               + to_microseconds(CAST(hash(i) % {86_400_000_000} AS BIGINT)) AS start_timestamp
        FROM range(180000) t(i)
        UNION ALL
        SELECT 1000000 + i, TIMESTAMPTZ '2026-11-27 00:00:00+00' + to_microseconds(i * 60000000)
        FROM range(1441) t(i)
        UNION ALL
        SELECT 2000000, TIMESTAMPTZ '2026-11-27 00:00:00+00' - INTERVAL 1 MICROSECOND
        """
    )
    yield con
    con.close()


def test_export_through_duckdb_fetches_every_row_once(day_of_records: duckdb.DuckDBPyConnection) -> None:
    """Real SQL end to end: count, plan, fetch pieces under a 10,000-row LIMIT, halve full ones."""
    requests, fetched, expected = _duckdb_export(day_of_records, "SELECT id, start_timestamp FROM records;")
    assert len(expected) == 180_000 + 1_440
    assert fetched == expected
    assert requests <= 1.25 * math.ceil(len(expected) / MAX_LIMIT) + 2


def test_export_through_duckdb_survives_a_burst(day_of_records: duckdb.DuckDBPyConnection) -> None:
    """30,000 rows in one second defeat the even-spread estimate: more requests, same rows."""
    day_of_records.execute(
        "INSERT INTO records SELECT 3000000 + i, TIMESTAMPTZ '2026-11-27 13:00:00+00' + to_microseconds(i * 33) "
        "FROM range(30000) t(i)"
    )
    requests, fetched, expected = _duckdb_export(day_of_records, "SELECT id, start_timestamp FROM records")
    assert len(expected) == 180_000 + 1_440 + 30_000
    assert fetched == expected
    assert requests > math.ceil(len(expected) / 9_000) + 1


def test_export_through_duckdb_stops_at_a_crowded_instant() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE records AS SELECT i AS id, TIMESTAMPTZ '2026-11-27 08:00:00+00' AS start_timestamp "
        f"FROM range({MAX_LIMIT + 1}) t(i)"
    )

    def fetch(piece: TimeWindow) -> int:
        sql = piece_sql("SELECT * FROM records", time_column="start_timestamp", piece=piece)
        return len(con.sql(sql + f"\nLIMIT {MAX_LIMIT}").fetchall())

    with pytest.raises(CrowdedInstantError, match="2026-11-27T08:00:00.000000"):
        run_export(DAY_WINDOW, lambda bucket: [(NOV27 + timedelta(hours=8), MAX_LIMIT + 1)], fetch)
    con.close()
