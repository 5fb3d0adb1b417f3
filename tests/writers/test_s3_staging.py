"""Staging on S3 itself (s3fs against the local S3 server, no Airflow): what the parts look like.

The transfer tests (tests/transfers/test_transfer_s3.py) run the same code through Airflow's
connection; these pin down the writer's side: an aborted export leaves no object and no
unfinished upload, and the clean-up before a retry touches only our own temporaries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pytest
from upath import UPath

from airflow_provider_logfire.writers.staging import remove_stale_temporaries
from airflow_provider_logfire.writers.uploads import UPLOAD_PART_BYTES
from airflow_provider_logfire.writers.writer import open_export
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, LocalS3, local_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalS3]:
    with local_s3() as running:
        yield running


def _path(s3: LocalS3, url: str) -> UPath:
    return UPath(
        url,
        key=ACCESS_KEY,
        secret=SECRET_KEY,
        client_kwargs={"endpoint_url": s3.endpoint, "region_name": REGION},
        skip_instance_cache=True,
    )


def _batch(size: int) -> pa.RecordBatch:
    return pa.record_batch({"payload": [os.urandom(size // 2000).hex() for _ in range(1000)]})


def test_an_aborted_export_leaves_no_object_and_no_unfinished_upload(s3: LocalS3):
    bucket = s3.create_bucket("abort")
    export = open_export(_path(s3, f"s3://{bucket}/day/records.jsonl"), format="jsonl")
    while export.bytes_written < 2 * UPLOAD_PART_BYTES:
        export.write_batch(_batch(1_000_000))
    assert len(s3.uploads(bucket)) == 1, "parts were sent: a multipart upload is under way"
    assert s3.keys(bucket) == []
    export.abort()
    assert s3.uploads(bucket) == [], "the upload was aborted, not completed"
    assert s3.keys(bucket) == []
    completed = [
        r for r in s3.requests if r[0] == "POST" and r[1].startswith(f"/{bucket}/") and "uploadId=" in r[2]
    ]
    assert completed == [], "never completed"


def test_a_small_committed_export_is_one_put_and_a_copy(s3: LocalS3):
    bucket = s3.create_bucket("small")
    with open_export(_path(s3, f"s3://{bucket}/day/records.jsonl"), format="jsonl") as export:
        export.write_batch(_batch(10_000))
    assert s3.keys(bucket) == ["day/records.jsonl"]
    assert export.result is not None
    assert export.result.path == f"s3://{bucket}/day/records.jsonl"
    assert len(s3.read(bucket, "day/records.jsonl")) == export.result.bytes
    assert s3.part_uploads(bucket, "day/") == {}, "a file under one part needs no multipart upload"


def test_stale_clean_up_aborts_only_our_own_unfinished_uploads(s3: LocalS3):
    bucket = s3.create_bucket("stale")
    ours = "day/.records.jsonl.tmp-0123456789ab"
    theirs = ["day/records.jsonl", "day/.records.jsonl.tmp-notours", "day/.other.jsonl.tmp-0123456789ab"]
    for key in [ours, *theirs]:
        s3.client.create_multipart_upload(Bucket=bucket, Key=key)
    removed = remove_stale_temporaries(_path(s3, f"s3://{bucket}/day/records.jsonl"))
    assert removed == [f"{bucket}/{ours} (an unfinished upload)"]
    assert s3.uploads(bucket) == sorted(theirs)
