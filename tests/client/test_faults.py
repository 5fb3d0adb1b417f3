"""Retries and completeness against real faults: a TCP proxy between the client and the server."""

from __future__ import annotations

import time

import pytest

from airflow_provider_logfire.client import (
    LogfireClient,
    LogfireIncompleteResponseError,
    LogfireQueryError,
    LogfireRateLimitError,
    LogfireServerError,
    LogfireTransportError,
    RetryPolicy,
)
from airflow_provider_logfire.local.faults import Fault

FAST = RetryPolicy(max_attempts=4, initial_delay=0.02, max_delay=2.0)
SQL = "SELECT * FROM records ORDER BY start_timestamp"


def via(proxy, server, retry=FAST, **settings) -> LogfireClient:
    return LogfireClient.from_token(server.token, base_url=proxy.url, retry=retry, **settings)


def test_clean_pass_through(proxy, server, day):
    with via(proxy, server) as c:
        assert c.query_arrow(SQL, limit=5000, **day).num_rows == 5000
    assert proxy.requests == 1


def test_429_with_retry_after_is_waited_out(proxy, server, day):
    proxy.inject(Fault.status_code(429, retry_after="1"))
    started = time.monotonic()
    with via(proxy, server) as c:
        table = c.query_arrow(SQL, limit=3000, **day)
    assert table.num_rows == 3000
    assert time.monotonic() - started >= 0.95, "Retry-After: 1 must be honoured"
    assert proxy.served["status_429"] == 1
    assert proxy.requests == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success(proxy, server, day, status):
    proxy.inject(Fault.status_code(status, body=b"<html>upstream trouble</html>", content_type="text/html"))
    with via(proxy, server) as c:
        rows = c.query_json_rows("SELECT count(*) AS n FROM records", **day)["rows"]
    assert rows[0]["n"] > 0
    assert proxy.requests == 2


def test_persistent_5xx_gives_up_after_max_attempts(proxy, server, day):
    proxy.inject(*[Fault.status_code(503)] * 10)
    with via(proxy, server) as c, pytest.raises(LogfireServerError, match="HTTP 503"):
        c.query_json_rows("SELECT 1 AS one", **day)
    assert proxy.requests == FAST.max_attempts


def test_persistent_429_surfaces_the_delay(proxy, server, day):
    proxy.inject(*[Fault.status_code(429, retry_after="0")] * 10)
    with via(proxy, server) as c, pytest.raises(LogfireRateLimitError) as info:
        c.query_json_rows("SELECT 1 AS one", **day)
    assert info.value.retry_after == 0


def test_400_is_never_retried(proxy, server, day):
    with via(proxy, server) as c, pytest.raises(LogfireQueryError):
        c.query_json_rows("SELECT nope FROM records", **day)
    assert proxy.requests == 1


def test_connection_reset_then_success(proxy, server, day):
    proxy.inject(Fault.reset())
    with via(proxy, server) as c:
        assert c.info()["project_name"] == "demo"
    assert proxy.served["reset"] == 1
    assert proxy.requests == 2


def test_arrow_body_cut_mid_stream_is_refetched_whole(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=200_000))
    with via(proxy, server) as c:
        table = c.query_arrow(SQL, limit=10_000, **day)
    assert table.num_rows == 10_000
    assert proxy.served["truncate"] == 1


def test_arrow_body_cut_without_retries_is_an_error_not_a_short_table(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=200_000))
    with via(proxy, server, retry=RetryPolicy.none()) as c, pytest.raises(LogfireIncompleteResponseError):
        c.query_arrow(SQL, limit=10_000, **day)


def test_streamed_batches_are_not_replayed_after_the_first_one(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=700_000))  # past the first of three batches (gzip)
    received: list[int] = []

    def consume(batches) -> None:
        for batch in batches:
            received.append(batch.num_rows)

    with via(proxy, server) as c, pytest.raises(LogfireIncompleteResponseError):
        consume(c.iter_batches(SQL, limit=10_000, **day))
    assert 0 < sum(received) < 10_000
    assert proxy.requests == 1, "a stream that already yielded rows must not be silently restarted"


def test_ndjson_cut_mid_stream_is_incomplete(proxy, server, day):
    proxy.inject(Fault.truncate(after_bytes=50_000))
    with via(proxy, server, retry=RetryPolicy.none()) as c:
        rows = c.iter_rows(SQL, limit=10_000, **day)
        with pytest.raises(LogfireIncompleteResponseError):
            list(rows)


def test_slow_answer_times_out_then_succeeds(proxy, server, day):
    proxy.inject(Fault.slow(3.0))
    with via(proxy, server, timeout=0.5) as c:
        assert c.info()["project_name"] == "demo"
    assert proxy.served["slow"] == 1


def test_slow_answer_without_retries_names_the_timeout(proxy, server, day):
    proxy.inject(Fault.slow(3.0))
    with (
        via(proxy, server, retry=RetryPolicy.none(), timeout=0.5) as c,
        pytest.raises(LogfireTransportError, match=r"timed out after 0\.5s"),
    ):
        c.info()


def test_requests_sharing_a_client_back_off_together_on_429(proxy, server, day):
    """A 429 with Retry-After pauses every request of the client, not just the one that got it."""
    import threading

    proxy.inject(Fault.status_code(429, retry_after="1"))
    finished: dict[str, float] = {}
    with via(proxy, server) as c:
        started = time.monotonic()

        def first() -> None:
            c.query_json_rows("SELECT 1 AS one", **day)
            finished["first"] = time.monotonic() - started

        thread = threading.Thread(target=first)
        thread.start()
        time.sleep(0.3)  # the first request has had its 429 by now
        c.query_json_rows("SELECT 2 AS two", **day)
        finished["second"] = time.monotonic() - started
        thread.join()
    assert proxy.served["status_429"] == 1
    assert finished["first"] >= 0.95
    assert finished["second"] >= 0.95, "the second request did not wait out the server's Retry-After"


def test_csv_file_cut_mid_body_leaves_no_file_then_retries_whole(proxy, server, day, tmp_path):
    sql = "SELECT span_name, level, exception_stacktrace FROM records ORDER BY start_timestamp"
    target = tmp_path / "rows.csv"
    proxy.inject(Fault.truncate(after_bytes=4_000))  # inside the gzipped body of about 8 kB
    with via(proxy, server, retry=RetryPolicy.none()) as c, pytest.raises(LogfireIncompleteResponseError):
        c.query_csv_to_file(sql, target, limit=5000, **day)
    assert list(tmp_path.iterdir()) == [], "neither the file nor its temporary may be left behind"

    proxy.inject(Fault.truncate(after_bytes=4_000))
    with via(proxy, server) as c:
        written = c.query_csv_to_file(sql, target, limit=5000, **day)
        assert target.read_text() == c.query_csv(sql, limit=5000, **day)
    assert written == target.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]
