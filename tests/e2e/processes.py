"""Long-running processes for the end-to-end tests: started in their own process group, logged
to a file, and always stopped (SIGTERM to the group, then SIGKILL to whatever is left).

A deployment is five processes (the local Logfire server and four Airflow components), each of
which forks workers of its own: the API server's uvicorn workers, the scheduler's executor
workers and task supervisors, the DAG processor's parsers. Each service gets a new session, so
one signal to its process group reaches all of them; the descendants are also collected before
the signal, in case one of them started a session of its own. On Linux the service also gets
SIGTERM if the test process dies without running its finalizers (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port nothing listens on right now (the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _new_session_dying_with_parent() -> None:  # runs in the child, between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Service:
    """One started process and its log file (`Services.stop_all` stops it)."""

    name: str
    argv: Sequence[str]
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: IO[bytes] = field(repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return text[-chars:]

    def close_log(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)  # reap it
        self._log.close()


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)  # the service leads its own session, so its pgid is its pid


class Services:
    """The processes of one test session, stopped in reverse order of starting by `stop_all`."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.started: list[Service] = []

    def start(self, name: str, argv: Sequence[str], *, cwd: Path | None = None) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            list(argv),
            env=self.env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_new_session_dying_with_parent,  # the test starts no threads of its own
        )
        service = Service(name=name, argv=list(argv), log_path=log_path, process=process, _log=log)
        self.started.append(service)
        return service

    def check_alive(self) -> None:
        """Raise, with its log, if a service has exited: nothing can succeed without it."""
        for service in self.started:
            if not service.alive():
                raise AssertionError(
                    f"{service.name} exited with code {service.process.returncode}; "
                    f"its log ({service.log_path}) ends with:\n{service.log_tail()}"
                )

    def stop_all(self, grace: float = 15.0) -> None:
        """Stop every service at once: SIGTERM to each group and every descendant, up to `grace`
        seconds to exit, then SIGKILL to what is left. Fails if a process survives even that."""
        started = time.monotonic()
        trees = {service.name: _tree(service.process.pid) for service in self.started}
        for service in self.started:
            _signal_group(service.process.pid, signal.SIGTERM)
            for proc in trees[service.name]:
                with contextlib.suppress(psutil.Error):
                    proc.send_signal(signal.SIGTERM)
        every = [proc for tree in trees.values() for proc in tree]
        _, alive = psutil.wait_procs(every, timeout=grace)
        killed = sorted({name for name, tree in trees.items() if set(tree) & set(alive)})
        for service in self.started:
            if service.name in killed:  # its group still has members, so the pgid is still its own
                _signal_group(service.process.pid, signal.SIGKILL)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
        for service in self.started:
            service.close_log()
        note = f"; SIGKILL after {grace:g} s for {', '.join(killed)}" if killed else ""
        print(f"stopped {len(self.started)} services in {time.monotonic() - started:.1f} s{note}")
        survivors = {name: [p.pid for p in tree if _running(p)] for name, tree in trees.items()}
        survivors = {name: pids for name, pids in survivors.items() if pids}
        if survivors:
            raise AssertionError(f"Processes survived SIGKILL: {survivors}")

    def wait_for(self, what: str, condition: Callable[[], object], *, timeout: float, interval: float = 1.0):
        """Poll `condition` until it returns something truthy; fail if a service dies or time runs out."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            self.check_alive()
            try:
                result = condition()
            except Exception as exc:  # a server still starting refuses connections
                last_error = exc
            else:
                if result:
                    return result
            if time.monotonic() > deadline:
                detail = f" (last error: {last_error!r})" if last_error else ""
                raise AssertionError(f"Timed out after {timeout:g} s waiting for {what}{detail}")
            time.sleep(interval)
