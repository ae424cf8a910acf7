"""Helpers for the edge security tests (tests/security/test_edge_*.py, ...): the app on each
engine with a demo merchant (secret key, terminal key) and a face context in scratch files,
and a real uvicorn server on a socket for the tests that must see bytes on the wire."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

JPEG_HEADER_ONLY = b"\xff\xd8\xff\xe0\x00\x10JFIF"  # the probe's 12-byte "JPEG" (with quotes)


@dataclass
class Edge:
    client: TestClient
    container: Any
    keys: Any  # services.demo.DemoKeys: secret_key, terminal_key, terminal_id, tenant_id
    engine: str

    def merchant(self, idem: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.keys.secret_key}"}
        if idem:
            headers["Idempotency-Key"] = idem
        return headers

    def terminal(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys.terminal_key}"}


def build_edge(url: str, tmp: Path, engine: str) -> Edge:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.api.app import create_app
    from smilepay.bootstrap import build_container, build_face_context
    from smilepay.config import FaceSettings
    from smilepay.services.demo import create_demo_merchant

    container = build_container(url)
    settings = FaceSettings(challenge="smile", secrets_file=str(tmp / "secrets.json"),
                            index_dir=str(tmp / "index"))
    container.extras["face"] = build_face_context(SqlIdentityStore(container.store.engine),
                                                  settings)
    return Edge(TestClient(create_app(container)), container, create_demo_merchant(container),
                engine)


def edge_on(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Edge]:
    """The app on the engine ``request.param`` names ("sqlite" or "postgres")."""
    from smilepay.adapters.sql.provision import create_scratch_schema, drop_schema

    if request.param == "sqlite":
        edge = build_edge(f"sqlite:///{tmp / 'money.db'}", tmp, "sqlite")
        yield edge
        edge.container.close()
        return
    base = request.getfixturevalue("postgres_url")
    schema, url = create_scratch_schema(base)
    edge = build_edge(url, tmp, "postgres")
    yield edge
    edge.container.close()
    drop_schema(base, schema)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` in the API's JSON error shape (never plain text)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) >= {"type", "code", "message", "param"}, error
    if code is not None:
        assert error["code"] == code, error
    return error


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """The app served by uvicorn in a thread on 127.0.0.1 (real sockets, real HTTP parsing)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("expected uvicorn to start within 20 s, it did not")
            time.sleep(0.02)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def raw_exchange(port: int, head: bytes, body: bytes = b"", timeout_s: float = 3.0
                 ) -> tuple[int, bytes, float]:
    """Send ``head`` (request line and headers) and ``body`` (maybe far less than the declared
    length), then read the answer: (status, raw response, seconds until it came). A server that
    waits for the rest of a declared body times out here: status 0."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        conn.sendall(head + body)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            return 0, received, time.perf_counter() - start
    elapsed = time.perf_counter() - start
    if not received.startswith(b"HTTP/1.1 "):
        return 0, received, elapsed
    return int(received[9:12]), received, elapsed
