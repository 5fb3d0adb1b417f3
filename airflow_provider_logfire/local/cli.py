"""`logfire-local serve`: run the local Logfire-compatible query server from a shell.

The read token is a secret unless it is the well-known development token: the start-up lines
print the dev token so they can be pasted as they are, and a placeholder for any other token.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_logfire.local import DEV_TOKEN

if TYPE_CHECKING:
    import uvicorn

    from airflow_provider_logfire.local.engine import LocalEngine

TOKEN_ENV = "LOGFIRE_LOCAL_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787

log = logging.getLogger("airflow_provider_logfire.local")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logfire-local",
        description="A local stand-in for the Pydantic Logfire query API (Apache DataFusion inside), "
        "for developing and testing without a Logfire account.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the query server",
        description="Serve /v1/query, /v2/query, /v1/read-token-info, /v1/schemas and OTLP ingest "
        "(/v1/traces, /v1/logs, /v1/metrics) until SIGINT/SIGTERM.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    net = serve.add_argument_group("network")
    net.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on")
    net.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on; 0 picks a free one")
    net.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV, DEV_TOKEN),
        help=f"read token clients must send (default: ${TOKEN_ENV}, else the development token "
        f"{DEV_TOKEN}); prefer the environment variable, command lines are visible to other users",
    )
    net.add_argument(
        "--ready-file",
        type=Path,
        help="write the base URL to this file once the server accepts requests (for scripts)",
    )
    data = serve.add_argument_group("data")
    data.add_argument(
        "--data-dir",
        type=Path,
        help="keep the data as Parquet files in this directory across restarts (default: in memory)",
    )
    data.add_argument(
        "--demo-days",
        type=int,
        default=0,
        help="generate this many days of demo telemetry, ending now (with --data-dir: only if it holds no records)",
    )
    data.add_argument("--demo-rows-per-day", type=int, default=25_000, help="demo records per day")
    data.add_argument("--seed", type=int, default=0, help="random seed of the demo data")
    data.add_argument("--records", metavar="PATH_OR_GLOB", help="load Parquet files into `records`")
    data.add_argument("--metrics", metavar="PATH_OR_GLOB", help="load Parquet files into `metrics`")
    behaviour = serve.add_argument_group("behaviour")
    behaviour.add_argument(
        "--latency-ms", type=int, default=0, help="wait this long before every answer, like a remote service"
    )
    behaviour.add_argument(
        "--query-timeout", type=float, default=30.0, help="seconds a query may run before it is cancelled"
    )
    behaviour.add_argument("--no-gzip", action="store_true", help="never compress answers")
    behaviour.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level of the server and its access log",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `logfire-local` and `python -m airflow_provider_logfire.local`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "serve")  # `serve` is the only command, so it may be left out.
    options = build_parser().parse_args(args)
    logging.basicConfig(level=options.log_level.upper(), format="%(levelname)s:     %(message)s")
    try:
        return serve(options)
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:  # Ctrl+C while the data was still loading
        return 130


def serve(options: argparse.Namespace) -> int:
    import uvicorn

    from airflow_provider_logfire.local.app import create_app

    if not options.token:
        raise ValueError("The read token must not be empty")
    engine = _open_engine(options)
    try:
        app = create_app(engine, token=options.token, latency_ms=options.latency_ms, gzip=not options.no_gzip)
        sock = _bind(options.host, options.port)
        url = _base_url(options.host, sock.getsockname()[1])
        config = uvicorn.Config(app, log_level=options.log_level, timeout_graceful_shutdown=5)
        server = uvicorn.Server(config)
        _absorb_stop_signals()
        asyncio.run(_serve_until_stopped(server, sock, on_ready=lambda: _announce(url, options)))
    finally:
        engine.close()
    return 0


def _open_engine(options: argparse.Namespace) -> LocalEngine:
    from airflow_provider_logfire.local.engine import LocalEngine

    if options.data_dir is not None:
        engine = LocalEngine.in_directory(options.data_dir, query_timeout=options.query_timeout)
    else:
        engine = LocalEngine(query_timeout=options.query_timeout)
    try:
        if options.demo_days > 0:
            if options.data_dir is not None and engine.count("records"):
                log.info("Keeping the records already in %s (no new demo data)", options.data_dir)
            else:
                log.info("Generating %d day(s) of demo data...", options.demo_days)
                engine.load_demo(
                    days=options.demo_days, rows_per_day=options.demo_rows_per_day, seed=options.seed
                )
        for table, pattern in (("records", options.records), ("metrics", options.metrics)):
            if pattern:
                rows = engine.load_parquet(table, pattern)
                log.info("Loaded %d row(s) into %s from %s", rows, table, pattern)
        log.info("Serving %d records and %d metrics", engine.count("records"), engine.count("metrics"))
    except BaseException:
        engine.close()
        raise
    return engine


def _bind(host: str, port: int) -> socket.socket:
    """Bind before serving, so `--port 0` has a known port to announce."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _absorb_stop_signals() -> None:
    """Let SIGINT/SIGTERM end the process through a normal return, after uvicorn's shutdown.

    uvicorn handles both signals while it serves, then restores the handlers it found and
    raises the signal again; with Python's defaults that would be a KeyboardInterrupt
    traceback, or death by SIGTERM before the database is closed. The handlers found are
    these, which ignore the repeat.
    """
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda signum, frame: None)


def _base_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


async def _serve_until_stopped(
    server: uvicorn.Server, sock: socket.socket, *, on_ready: Callable[[], None]
) -> None:
    """Run uvicorn (which handles SIGINT/SIGTERM) and call `on_ready` once it listens."""
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started:
        on_ready()
    await serving


def _announce(url: str, options: argparse.Namespace) -> None:
    shown_token = options.token if options.token == DEV_TOKEN else "<your token>"
    connection = f'{{"conn_type": "logfire", "host": "{url}", "password": "{shown_token}"}}'
    print(f"Logfire-compatible query API and OTLP ingest on {url}", flush=True)
    print(f"AIRFLOW_CONN_LOGFIRE_DEFAULT='{connection}'", flush=True)
    print(f"Send telemetry here with: LOGFIRE_BASE_URL={url} LOGFIRE_TOKEN={shown_token}", flush=True)
    if options.ready_file is not None:
        ready: Path = options.ready_file
        ready.parent.mkdir(parents=True, exist_ok=True)
        partial = ready.with_name(ready.name + ".partial")
        partial.write_text(url + "\n")
        partial.replace(ready)  # atomic: a script polling the file never reads half a URL
