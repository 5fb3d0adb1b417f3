"""A fault-injecting HTTP proxy, to put between a client and the local server in tests.

Real services fail in ways a well-behaved server never shows: 429 with `Retry-After`, 5xx pages
from a proxy, connections reset before an answer, bodies cut off mid-stream, answers slower than
the client's timeout. This proxy produces each of them on demand, over real TCP, so the client's
retry and completeness checks are tested against the real thing rather than a mock transport.

Faults are queued: each request takes the next fault from the queue (or passes through cleanly
when it is empty), and every fault served is counted by kind.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Fault:
    """What to do to one request. Build with the class methods."""

    kind: str
    status: int = 0
    retry_after: str | None = None
    body: bytes = b""
    content_type: str = "text/plain"
    after_bytes: int = 0
    delay: float = 0.0

    @classmethod
    def status_code(
        cls,
        status: int,
        *,
        retry_after: str | None = None,
        body: bytes = b"",
        content_type: str = "text/plain",
    ) -> Fault:
        """Answer with `status` (and `Retry-After`) instead of forwarding."""
        return cls(
            "status",
            status=status,
            retry_after=retry_after,
            body=body or f"injected {status}".encode(),
            content_type=content_type,
        )

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection with a TCP reset before answering."""
        return cls("reset")

    @classmethod
    def truncate(cls, after_bytes: int) -> Fault:
        """Forward the real answer but cut the connection after `after_bytes` bytes of body."""
        return cls("truncate", after_bytes=after_bytes)

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """Wait `delay` seconds before forwarding (to exceed a client's timeout)."""
        return cls("slow", delay=delay)


@dataclass
class FaultProxy:
    """Proxy on 127.0.0.1 in a background thread; `url` is what the client should use."""

    upstream: str
    faults: collections.deque[Fault] = field(default_factory=collections.deque)
    served: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: int = 0
    url: str = ""

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True, name="fault-proxy")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve(ready))

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        self._upstream = httpx.AsyncClient(base_url=self.upstream, timeout=None)
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        ready.set()
        async with server:
            await self._stopped.wait()
        # Finish off connections still open (a client that gave up mid-answer) before the loop closes.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._upstream.aclose()

    # -- one connection: one request (we answer with Connection: close) ---------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = [tuple(line.split(":", 1)) for line in header_lines if ":" in line]
        headers = [(k.strip(), v.strip()) for k, v in headers]
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        self.requests += 1
        fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            self.served[fault.kind if fault.kind != "status" else f"status_{fault.status}"] += 1
        try:
            await self._answer(fault, method, target, headers, body, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(
        self,
        fault: Fault | None,
        method: str,
        target: str,
        headers: list,
        body: bytes,
        writer: asyncio.StreamWriter,
    ) -> None:
        if fault is not None and fault.kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if fault is not None and fault.kind == "status":
            extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after is not None else ""
            writer.write(
                f"HTTP/1.1 {fault.status} Injected\r\nContent-Type: {fault.content_type}\r\n"
                f"Content-Length: {len(fault.body)}\r\n{extra}Connection: close\r\n\r\n".encode()
                + fault.body
            )
            await writer.drain()
            return
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        forward = [(k, v) for k, v in headers if k.lower() not in ("host", "content-length", "connection")]
        request = self._upstream.build_request(method, target, headers=forward, content=body)
        response = await self._upstream.send(request, stream=True)
        try:
            drop = {"content-length", "transfer-encoding", "connection"}
            lines = [f"{k}: {v}" for k, v in response.headers.multi_items() if k.lower() not in drop]
            writer.write(
                (
                    f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
                    + "\r\n".join(lines)
                    + "\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                ).encode("latin-1")
            )
            budget = fault.after_bytes if fault is not None and fault.kind == "truncate" else None
            async for chunk in response.aiter_raw():
                if not chunk:
                    continue
                if budget is not None:
                    if len(chunk) >= budget:
                        if budget:
                            writer.write(b"%x\r\n%s\r\n" % (budget, chunk[:budget]))
                            await writer.drain()
                        writer.transport.abort()  # cut mid-body: no final chunk
                        return
                    budget -= len(chunk)
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            await response.aclose()


@contextlib.contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """Run a `FaultProxy` in front of `upstream` for the duration of the block."""
    proxy = FaultProxy(upstream).start()
    try:
        yield proxy
    finally:
        proxy.stop()
