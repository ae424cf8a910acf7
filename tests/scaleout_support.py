"""A real ``smilepay serve --workers 2`` for the scale-out tests, and requests pinned to one
worker process: a connection is opened until ``ss`` says that worker holds it, and every
answer is checked to have come over a connection that worker still holds."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from smilepay.cli._served import free_port

FRESH_S = 2.0  # reuse a pinned connection only this soon after its last answer (keep-alive 5 s)


def holder_pid(port: int, client_port: int) -> str | None:
    """The pid of the server process holding the connection from ``client_port``."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        peer = re.search(r"\S+:(\d+)\s+\S+:(\d+)\s+users:.*pid=(\d+)", line)
        if peer and int(peer.group(1)) == port and int(peer.group(2)) == client_port:
            return peer.group(3)
    return None


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    pid: str


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    var_dir: Path
    keys: dict[str, Any]
    pids: list[str] = field(default_factory=list)
    _conns: dict[str, tuple[http.client.HTTPConnection, float]] = field(default_factory=dict)

    def _open(self) -> tuple[http.client.HTTPConnection, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", "/health")
        health = conn.getresponse()
        assert health.status == 200 and b'"ok"' in health.read()
        pid = holder_pid(self.port, conn.sock.getsockname()[1])
        assert pid is not None, "the server holds no connection from this client"
        return conn, pid

    def pinned(self, pid: str) -> http.client.HTTPConnection:
        """A live connection held by worker ``pid`` (opened afresh until one lands there)."""
        held = self._conns.pop(pid, None)
        if held is not None and time.monotonic() - held[1] < FRESH_S:
            return held[0]
        if held is not None:
            held[0].close()
        spare: list[http.client.HTTPConnection] = []
        try:
            for _ in range(60):
                conn, got = self._open()
                if got == pid:
                    return conn
                spare.append(conn)  # held open, so the next connect is spread elsewhere
        finally:
            for other in spare:
                other.close()
        raise AssertionError(f"no connection landed on worker {pid} in 60 tries")

    def call(self, worker: int, method: str, path: str, *, json_body: Any = None,
             content: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        """One request on worker ``worker`` (0 or 1); the answer and the pid that served it."""
        pid = self.pids[worker]
        conn = self.pinned(pid)
        sent = dict(headers or {})
        body = content
        if json_body is not None:
            sent["Content-Type"] = "application/json"
            body = json.dumps(json_body).encode()
        local = conn.sock.getsockname()[1]
        conn.request(method, path, body=body, headers=sent)
        answer = conn.getresponse()
        raw = answer.read()
        assert conn.sock is not None and conn.sock.getsockname()[1] == local, "reconnected"
        assert holder_pid(self.port, local) == pid, f"expected worker {pid} to answer {path}"
        self._conns[pid] = (conn, time.monotonic())
        return Answer(answer.status, json.loads(raw) if raw else {}, pid)

    def close(self) -> None:
        for conn, _ in self._conns.values():
            conn.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def smilepay(env: dict[str, str], *args: str,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smilepay", *args], env=env, text=True,
                          capture_output=True, timeout=timeout)


def start_server(var_dir: Path, database_url: str, **extra: str) -> Server:
    """``demo-seed`` then ``serve --workers 2`` on a free port; returns once both workers
    answer ``/ready`` with warm models."""
    env = {**os.environ, "SMILEPAY_VAR_DIR": str(var_dir), "SMILEPAY_DATABASE_URL": database_url,
           "SMILEPAY_FACE_CHALLENGE": "smile", "SMILEPAY_FACE_STEP_TIMEOUT_MS": "60000",
           "SMILEPAY_REDIS_URL": "", **extra}
    seeded = smilepay(env, "demo-seed")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    keys = json.loads((var_dir / "demo-keys.json").read_text())
    port = free_port()
    log = (var_dir / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "smilepay", "serve", "--port", str(port),
                                "--workers", "2", "--no-access-log"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    server = Server(port, process, env, var_dir, keys)
    try:
        deadline = time.monotonic() + 240
        ready: set[str] = set()
        while len(ready) < 2:
            assert process.poll() is None, (var_dir / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"only workers {ready} got ready"
            with contextlib.suppress(OSError, AssertionError):
                conn, pid = server._open()
                conn.request("GET", "/ready")
                if conn.getresponse().status == 200:
                    ready.add(pid)
                conn.close()
            time.sleep(0.3)
        server.pids = sorted(ready)
        return server
    except BaseException:
        server.close()
        raise


def video_jpegs(path: Path, every: int = 2) -> Iterator[bytes]:
    cap = cv2.VideoCapture(str(path))
    i = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            if i % every == 0:
                ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
                assert ok
                yield bytes(data)
            i += 1
    finally:
        cap.release()

