"""A local S3-compatible server (moto's standalone server) for the `s3://` tests, and its view.

The server runs in the test process on a free loopback port; DAG subprocesses reach it through
the `aws_default` connection (`endpoint_url` in its extra, dummy keys), the way a user points
Airflow at MinIO or another S3-compatible store. The test reads the bucket back with boto3.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Dummy credentials: moto accepts any, and real ones must never be needed (or found) here.
ACCESS_KEY, SECRET_KEY, REGION = "testing-access-key", "testing-secret-key", "us-east-1"


@dataclass
class LocalS3:
    endpoint: str
    client: Any  # a boto3 S3 client on the server
    #: Every request the server answered, as (method, path, query string), in order.
    requests: list[tuple[str, str, str]]

    def part_uploads(self, bucket: str, key_prefix: str) -> dict[str, int]:
        """Keys under `key_prefix` that were written by multipart upload, with their part counts."""
        parts: dict[str, int] = {}
        for method, path, query in self.requests:
            key = path.removeprefix(f"/{bucket}/")
            if method == "PUT" and key.startswith(key_prefix) and "partNumber=" in query:
                parts[key] = parts.get(key, 0) + 1
        return parts

    def connection_env(self, conn_id: str = "aws_default") -> dict[str, str]:
        """An Airflow connection of type `aws` on this server, as an environment variable."""
        connection = {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {"endpoint_url": self.endpoint, "region_name": REGION},
        }
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection)}

    def create_bucket(self, bucket: str) -> str:
        self.client.create_bucket(Bucket=bucket)
        return bucket

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under `prefix` (listed as a reader of the bucket would)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def uploads(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys of the unfinished multipart uploads under `prefix`."""
        page = self.client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
        return sorted(upload["Key"] for upload in page.get("Uploads", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data)


@contextmanager
def local_s3() -> Iterator[LocalS3]:
    """Run moto's S3 server on 127.0.0.1 (a free port) for the duration of the block."""
    import boto3
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    requests: list[tuple[str, str, str]] = []

    class RecordingServer(ThreadedMotoServer):
        """moto's threaded server, with a log of the requests it answers (the test's view of the wire)."""

        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)

            def recording_app(environ: dict, start_response: Any) -> Any:
                requests.append(
                    (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
                )
                return app(environ, start_response)

            self._server = make_server(
                self._ip_address, self._port, recording_app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = RecordingServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        yield LocalS3(endpoint, client, requests)
    finally:
        server.stop()
