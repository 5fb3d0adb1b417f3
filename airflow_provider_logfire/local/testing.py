"""Run the local server inside a test: a real uvicorn on a free loopback port, in a thread.

    with run_local_server() as server:
        httpx.get(f"{server.url}/v1/read-token-info", headers={"Authorization": server.token})

The socket is bound before the server thread starts, so the port is known at once and no
other process can take it in between; the context manager returns when the server accepts
requests and stops it (and closes an engine it created) on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from airflow_provider_logfire.local import DEV_TOKEN
from airflow_provider_logfire.local.app import create_app
from airflow_provider_logfire.local.engine import LocalEngine

_START_TIMEOUT = 10.0


@dataclass(frozen=True)
class LocalServer:
    """A running local server: where it listens, the token it accepts, the engine it serves."""

    url: str
    token: str = field(repr=False)
    engine: LocalEngine


@contextmanager
def run_local_server(
    engine: LocalEngine | None = None,
    *,
    token: str = DEV_TOKEN,
    latency_ms: int = 0,
    gzip: bool = True,
    **app_options: Any,
) -> Iterator[LocalServer]:
    """Serve `engine` (a fresh in-memory one if None) on 127.0.0.1 for the `with` block.

    `app_options` go to `create_app` (`organization_name`, `project_name`).
    """
    own_engine = engine is None
    engine = engine if engine is not None else LocalEngine()
    app = create_app(engine, token=token, latency_ms=latency_ms, gzip=gzip, **app_options)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"logfire-local:{port}", daemon=True
        )
        thread.start()
        _wait_until_started(server, thread)
        try:
            yield LocalServer(url=f"http://127.0.0.1:{port}", token=token, engine=engine)
        finally:
            server.should_exit = True
            thread.join(timeout=_START_TIMEOUT)
    finally:
        sock.close()
        if own_engine:
            engine.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("The local Logfire server stopped while starting; see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"The local Logfire server did not start within {_START_TIMEOUT:g} s")
        time.sleep(0.005)
