"""A ``smilepay serve`` subprocess for the benchmarks: started on a free loopback port, waited
for until a path answers 200, and stopped (SIGTERM, then kill) however the caller leaves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int


@contextmanager
def served(env: dict[str, str], *, app_path: str | None = None, workers: int = 1,
           ready_path: str = "/health", timeout_s: float = 60.0,
           settle_s: float = 0.0) -> Iterator[Served]:
    """``smilepay serve`` with ``env`` added, once ``ready_path`` answers 200 (and, with
    several workers, ``settle_s`` more for the others); its stderr tail in the error if it
    stops or never gets ready."""
    import httpx

    port = free_port()
    app = ["--app", app_path] if app_path else []
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "smilepay", "serve", *app, "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log"],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    def failure(what: str) -> RuntimeError:
        err = process.stderr.read().decode() if process.stderr else ""
        return RuntimeError(f"expected {app_path or 'the server'} {what}, got: {err[-2000:]}")

    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise failure(f"to answer {ready_path}")
            time.sleep(0.2)
        time.sleep(settle_s)
        if process.poll() is not None:
            raise failure("to keep running after start-up")
        yield Served(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
