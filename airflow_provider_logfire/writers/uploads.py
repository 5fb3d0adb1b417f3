"""Uploads to object storage: the part size, abandoning an unfinished upload, and killed ones.

An fsspec file open for writing on S3 (s3fs) buffers `block_size` bytes, then starts a multipart
upload and sends a part each time the buffer fills; `close()` completes the upload, which is when
the object appears. Three consequences for staged exports:

- The part size bounds memory per open file. s3fs's default is 50 MiB; a file set partitioned by
  a column keeps one file open per partition, so exports use `UPLOAD_PART_BYTES` instead.
- An abandoned write must be discarded, not closed: closing would complete the upload and create
  the temporary object only to delete it; discarding aborts the multipart upload.
- A killed export leaves its multipart upload open: no object (nothing to list or delete), yet
  its parts are stored (and billed) until aborted. `abort_stale_uploads` aborts those that a
  temporary name of ours identifies. Filesystems without multipart uploads have none to abort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Bytes buffered before each part is sent: S3's minimum part is 5 MiB, and 10,000 parts of
#: 8 MiB allow files up to 78 GiB.
UPLOAD_PART_BYTES = 8 * 2**20


def open_for_upload(fs: Any, path: str) -> Any:
    """`fs.open(path, "wb")` with the export's part size."""
    return fs.open(path, "wb", block_size=UPLOAD_PART_BYTES)


def abandon(file: Any) -> None:
    """Drop an unfinished write without completing it (an S3 multipart upload is aborted)."""
    if file.closed:
        return
    discard = getattr(file, "discard", None)
    if not callable(discard):
        file.close()
        return
    discard()
    try:
        # fsspec's buffered files would upload what they hold on close(); after discard() they
        # only need to be marked closed.
        file.closed = True
    except AttributeError:  # a file whose `closed` is read-only (memory://): close() it
        file.close()


def abort_stale_uploads(fs: Any, directory: str, is_ours: Callable[[str], bool]) -> list[str]:
    """Abort the unfinished multipart uploads under `directory` whose key `is_ours` (relative to it).

    Only S3 (s3fs) has them; elsewhere this lists nothing. Returns the keys whose uploads were
    aborted, as `bucket/key`. Failures are logged, never raised: this is clean-up before a retry.
    """
    call_s3 = getattr(fs, "call_s3", None)
    abort_mpu = getattr(fs, "abort_mpu", None)
    if not (callable(call_s3) and callable(abort_mpu)):
        return []
    bucket, _, prefix = directory.strip("/").partition("/")
    prefix = f"{prefix}/" if prefix else ""
    aborted: list[str] = []
    try:
        uploads = _list_uploads(call_s3, bucket, prefix)
    except Exception as error:
        log.warning("Could not list unfinished uploads under %s: %s", directory, error)
        return aborted
    for key, upload_id in uploads:
        if not is_ours(key[len(prefix) :]):
            continue
        try:
            abort_mpu(bucket, key, upload_id)
        except Exception as error:
            log.warning("Could not abort the unfinished upload of %s/%s: %s", bucket, key, error)
        else:
            aborted.append(f"{bucket}/{key}")
    return aborted


def _list_uploads(call_s3: Callable[..., dict], bucket: str, prefix: str) -> list[tuple[str, str]]:
    """Every unfinished multipart upload under `prefix`, following the listing's pages."""
    found: list[tuple[str, str]] = []
    markers: dict[str, str] = {}
    while True:
        page = call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix, **markers)
        found.extend((upload["Key"], upload["UploadId"]) for upload in page.get("Uploads", []))
        if not page.get("IsTruncated"):
            return found
        markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
