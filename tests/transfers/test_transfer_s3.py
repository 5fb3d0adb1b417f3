"""Exports to s3:// the way users run them: the Amazon provider, s3fs, an `aws_default` connection.

The S3 side is moto's standalone server on loopback (`tests/support/s3.py`), reached by the DAG
subprocess over HTTP through the connection's `endpoint_url`; the Logfire side is the module's
local server. What the bucket holds is read back with boto3 and compared with the rows the
server has: every row once, nothing else under the keys (no temporary object, no unfinished
multipart upload), and nothing at the final key before the export is complete.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from airflow_provider_logfire.writers.uploads import UPLOAD_PART_BYTES
from tests.conftest import run_dags_in
from tests.support.dag_tasks import (
    DAGS_DIR,
    DAY_END,
    DAY_START,
    LOGICAL_DATE,
    SECRET_TOKEN,
    DagRunReport,
    RunDags,
    assert_secrets_absent,
    connection_env,
    records_table,
)
from tests.support.s3 import LocalS3, local_s3

ROWS = 80_000
DAY = DAY_START.strftime("%Y-%m-%d")
DAG_FILE = DAGS_DIR / "transfer_s3_dags.py"
#: Rows of each DAG's data: ~230 bytes each as JSON lines, so the day is several upload parts.
PAYLOAD_HEX = 80


def _day_rows(prefix: str, count: int = ROWS) -> pa.Table:
    step = (DAY_END - DAY_START) / count
    times = [DAY_START + step * i for i in range(count)]
    names = [f"{prefix} {os.urandom(PAYLOAD_HEX).hex()}" for _ in range(count)]
    return records_table(times, id_prefix=prefix, span_name=pa.array(names))


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalS3]:
    with local_s3() as running:
        yield running


@pytest.fixture(scope="module")
def ids(server: LocalServer) -> set[str]:
    table = _day_rows("s3")
    server.engine.insert_arrow("records", table)
    return set(table.column("span_id").to_pylist())


def _env(s3: LocalS3, server: LocalServer, bucket: str) -> dict[str, str]:
    return {
        **connection_env("logfire_default", server.url),
        **s3.connection_env(),
        "LOGFIRE_TEST_BUCKET": bucket,
    }


@pytest.fixture(scope="module")
def bucket(s3: LocalS3) -> str:
    bucket = s3.create_bucket("lf-exports")
    # What earlier exports left, for the if_exists policies.
    for policy in ("replace", "skip", "fail"):
        s3.put(bucket, f"existing/{policy}.parquet", b"an earlier export")
    for policy in ("skip", "fail", "replace"):
        s3.put(bucket, f"set-{policy}/records-00005.parquet", b"a file of an earlier set")
        s3.put(bucket, f"set-{policy}/_SUCCESS", b'{"files": []}')
    return bucket


@pytest.fixture(scope="module")
def reports(
    s3: LocalS3, server: LocalServer, bucket: str, ids: set[str], run_module_dags: RunDags
) -> dict[str, DagRunReport]:
    date = LOGICAL_DATE.isoformat()
    runs = run_module_dags(
        [DAG_FILE],
        [
            {"dag_id": dag_id, "logical_date": date}
            for dag_id in ("lf_s3_big", "lf_s3_if_exists", "lf_s3_sets")
        ],
        env=_env(s3, server, bucket),
    )
    assert_secrets_absent(runs, SECRET_TOKEN)
    return {report.dag_id: report for report in runs}


def _jsonl_ids(data: bytes) -> list[str]:
    return [json.loads(line)["span_id"] for line in data.splitlines()]


def _parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


def test_multi_megabyte_file_is_uploaded_in_parts(reports, s3: LocalS3, bucket: str, ids: set[str]):
    report = reports["lf_s3_big"]
    assert report.tasks == {"jsonl": "success"}, report.log[-5000:]
    key = f"big/{DAY}/records.jsonl"
    summary = report.xcom["jsonl"]
    assert summary["path"] == f"s3://{bucket}/{key}"
    assert summary["rows"] == ROWS
    head = s3.client.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == summary["bytes"] > 2 * UPLOAD_PART_BYTES
    # The temporary object went up in parts of UPLOAD_PART_BYTES, then was copied into place.
    uploaded = s3.part_uploads(bucket, f"big/{DAY}/")
    ((temp, parts),) = uploaded.items()
    assert temp.startswith(f"big/{DAY}/.records.jsonl.tmp-")
    # s3fs sends what its buffer holds once it passes the part size: parts of >= 8 MiB, and a last one.
    assert 2 <= parts <= -(-summary["bytes"] // UPLOAD_PART_BYTES)
    exported = _jsonl_ids(s3.read(bucket, key))
    assert len(exported) == ROWS and set(exported) == ids
    assert s3.keys(bucket, "big/") == [key], "no temporary object is left beside the file"
    assert s3.uploads(bucket) == []


def test_if_exists_policies(reports, s3: LocalS3, bucket: str, ids: set[str]):
    report = reports["lf_s3_if_exists"]
    tasks = report.tasks
    assert tasks.pop("fail_existing") == "failed"
    assert set(tasks.values()) == {"success"}, report.log[-5000:]
    assert "already exists" in report.task_log("fail_existing")
    # replace overwrote the earlier export; skip and fail kept it untouched.
    assert set(_parquet(s3.read(bucket, "existing/replace.parquet"))["span_id"].to_pylist()) == ids
    assert s3.read(bucket, "existing/skip.parquet") == b"an earlier export"
    assert s3.read(bucket, "existing/fail.parquet") == b"an earlier export"
    assert report.xcom["skip_existing"]["skipped"] is True
    assert report.xcom["skip_existing"]["requests"] == 0, "skip decides before fetching anything"
    # Where nothing existed, every policy writes.
    for policy in ("replace", "skip", "fail"):
        table = _parquet(s3.read(bucket, f"absent/{policy}.parquet"))
        assert table.num_rows == ROWS and set(table["span_id"].to_pylist()) == ids
    assert s3.keys(bucket, "existing/") == [f"existing/{p}.parquet" for p in ("fail", "replace", "skip")]
    assert s3.keys(bucket, "absent/") == [f"absent/{p}.parquet" for p in ("fail", "replace", "skip")]
    assert s3.uploads(bucket) == []


def test_partitioned_file_set_with_success_manifest(reports, s3: LocalS3, bucket: str, ids: set[str]):
    report = reports["lf_s3_sets"]
    assert report.tasks.pop("set_fail") == "failed"
    assert set(report.tasks.values()) == {"success"}, report.log[-5000:]
    prefix = f"sets/{DAY}/"
    manifest = json.loads(s3.read(bucket, f"{prefix}_SUCCESS"))
    listed = sorted(entry["path"] for entry in manifest["files"])
    assert s3.keys(bucket, prefix) == sorted([*(prefix + p for p in listed), f"{prefix}_SUCCESS"])
    assert {p.split("/")[0] for p in listed} == {f"hour={h:02d}" for h in range(24)}
    seen: list[str] = []
    for entry in manifest["files"]:
        table = _parquet(s3.read(bucket, prefix + entry["path"]))
        assert table.num_rows == entry["rows"] <= 8_000
        assert "hour" not in table.column_names or entry["partition"]["hour"]
        seen += table["span_id"].to_pylist()
    assert len(seen) == manifest["rows"] == ROWS and set(seen) == ids
    assert report.xcom["hours"]["files"] == [f"s3://{bucket}/{prefix}{e['path']}" for e in manifest["files"]]


def test_file_set_if_exists_policies(reports, s3: LocalS3, bucket: str, ids: set[str]):
    report = reports["lf_s3_sets"]
    assert "already exists" in report.task_log("set_fail")
    assert report.xcom["set_skip"]["skipped"] is True
    for policy in ("skip", "fail"):
        assert s3.keys(bucket, f"set-{policy}/") == [
            f"set-{policy}/_SUCCESS",
            f"set-{policy}/records-00005.parquet",
        ]
        assert s3.read(bucket, f"set-{policy}/_SUCCESS") == b'{"files": []}'
    # replace: the new set only; the earlier set's file it does not have is gone.
    new = [f"set-replace/records-{part:05d}.parquet" for part in range(3)]
    assert s3.keys(bucket, "set-replace/") == sorted(["set-replace/_SUCCESS", *new])
    exported = [i for key in new for i in _parquet(s3.read(bucket, key))["span_id"].to_pylist()]
    assert len(exported) == ROWS and set(exported) == ids
    assert s3.uploads(bucket) == []


# -- publication while the export runs, and a retry after a kill ----------------------------------


@pytest.fixture
def slow_server() -> Iterator[tuple[LocalServer, set[str]]]:
    """A server that answers each request after 400 ms, so the export is watched mid-way."""
    engine = LocalEngine()
    table = _day_rows("slow")
    engine.insert_arrow("records", table)
    try:
        with run_local_server(engine, token=SECRET_TOKEN, latency_ms=400) as running:
            yield running, set(table.column("span_id").to_pylist())
    finally:
        engine.close()


def _wait_for_upload(s3: LocalS3, bucket: str, prefix: str, alive, timeout: float = 400) -> list[str]:
    """Poll until an unfinished upload exists under `prefix` (parts sent, object not complete)."""
    deadline = time.monotonic() + timeout
    while not (uploads := s3.uploads(bucket, prefix)):
        assert alive(), "the export ended before it was seen uploading"
        assert time.monotonic() < deadline, "the export never started uploading"
        time.sleep(0.05)
    return uploads


@pytest.mark.timeout(900)  # a dag.test() start-up takes minutes on a loaded machine
def test_nothing_under_the_final_key_until_the_export_is_complete(
    s3: LocalS3, slow_server, airflow_db: Path, tmp_path: Path
):
    server, expected = slow_server
    bucket = s3.create_bucket("lf-slow")
    key = f"slow/{DAY}/records.jsonl"
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["reports"] = run_dags_in(
                tmp_path,
                [DAG_FILE],
                [{"dag_id": "lf_s3_slow", "logical_date": LOGICAL_DATE.isoformat()}],
                env=_env(s3, server, bucket),
            )
        except BaseException as error:
            outcome["error"] = error

    runner = threading.Thread(target=run)
    runner.start()
    try:
        uploads = _wait_for_upload(s3, bucket, "slow/", runner.is_alive)
        assert len(uploads) == 1 and uploads[0].startswith(f"slow/{DAY}/.records.jsonl.tmp-")
        observed = 0
        while runner.is_alive() and s3.uploads(bucket, "slow/"):
            # The upload may complete into its temporary object between the two calls, just before
            # it is copied to the final key: that one may show, nothing else may.
            early = [
                k for k in s3.keys(bucket, "slow/") if not k.startswith(f"slow/{DAY}/.records.jsonl.tmp-")
            ]
            assert early == [], "an object appeared under the final key before the export was complete"
            observed += 1
            time.sleep(0.1)
    finally:
        runner.join(300)
    assert "error" not in outcome, outcome.get("error")
    assert observed >= 3, "the bucket was seen only once or twice mid-export"
    (report,) = outcome["reports"]
    assert report.tasks == {"jsonl": "success"}, report.log[-5000:]
    assert s3.keys(bucket) == [key]
    exported = _jsonl_ids(s3.read(bucket, key))
    assert len(exported) == len(expected) and set(exported) == expected
    assert s3.uploads(bucket) == []


EXPORT = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

    options = json.loads(sys.argv[4])
    task = LogfireToFileTransfer(
        task_id="export", destination=sys.argv[1], dest_conn_id="aws_default", max_concurrency=1, **options
    )
    window = {"data_interval_start": datetime.fromisoformat(sys.argv[2]),
              "data_interval_end": datetime.fromisoformat(sys.argv[3])}
    print(json.dumps(task.execute(window)))
    """
)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("destination", "options"),
    [
        pytest.param("records.jsonl", {"format": "jsonl"}, id="file"),
        pytest.param("records-{part}.jsonl", {"format": "jsonl", "max_rows_per_file": 30_000}, id="file-set"),
    ],
)
def test_killed_export_then_retry_publishes_the_rows_once(s3: LocalS3, slow_server, destination, options):
    """SIGKILL while a part is uploaded: no object, an unfinished upload; the retry aborts it."""
    server, expected = slow_server
    bucket = s3.create_bucket(f"lf-kill-{len(options)}")
    url = f"s3://{bucket}/kill/{destination}"
    args = [
        sys.executable,
        "-c",
        EXPORT,
        url,
        DAY_START.isoformat(),
        DAY_END.isoformat(),
        json.dumps(options),
    ]
    env = {**os.environ, **_env(s3, server, bucket)}
    worker = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        killed = _wait_for_upload(s3, bucket, "kill/", lambda: worker.poll() is None)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert s3.keys(bucket) == [], "a killed export leaves no object: its file was an unfinished upload"
    assert s3.uploads(bucket) == killed

    retry = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert f"{bucket}/{killed[0]} (an unfinished upload)" in retry.stderr + retry.stdout
    assert "left by an earlier attempt that was killed" in retry.stderr + retry.stdout
    assert s3.uploads(bucket) == [], "the killed attempt's upload was aborted"
    keys = s3.keys(bucket)
    if "max_rows_per_file" in options:
        assert keys == ["kill/_SUCCESS", *(f"kill/records-{p:05d}.jsonl" for p in range(3))]
    else:
        assert keys == ["kill/records.jsonl"]
    exported = [i for key in keys if key.endswith(".jsonl") for i in _jsonl_ids(s3.read(bucket, key))]
    assert len(exported) == len(expected) and set(exported) == expected
