"""/ready: 503 while a worker warms its models (or after the warm-up failed), 200 once warm;
an app built without a warm-up loads models on first use and says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smilepay.api.app import create_app
from smilepay.api.routes_ops import readiness_of, start_warm_up
from smilepay.bootstrap import Container, build_container

pytestmark = pytest.mark.e2e


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build_container(f"sqlite:///{tmp_path / 'ready.db'}")
    yield built
    built.close()



def test_without_a_warm_up_the_app_is_ready_and_says_models_load_on_first_use(
        container: Container) -> None:
    r = TestClient(create_app(container)).get("/ready")
    assert r.status_code == 200
    assert r.json()["models"] == "lazy"
    assert TestClient(create_app(container)).get("/health").status_code == 200


def test_ready_is_503_while_warming_and_200_once_warm(container: Container) -> None:
    client = TestClient(create_app(container))
    release = threading.Event()
    thread = start_warm_up(container, lambda _: (release.wait(10), None)[1])
    warming = client.get("/ready")
    assert warming.status_code == 503
    assert warming.json() == {"status": "not_ready", "models": "warming", "warmed_in_ms": None,
                              "error": None}
    assert client.get("/health").status_code == 200  # alive all along
    release.set()
    thread.join(10)
    warm = client.get("/ready")
    assert warm.status_code == 200
    assert warm.json()["models"] == "ready" and warm.json()["warmed_in_ms"] >= 0


def test_a_failed_warm_up_keeps_the_worker_not_ready_without_leaking_details(
        container: Container) -> None:
    client = TestClient(create_app(container))

    def broken(_: Container) -> None:
        raise FileNotFoundError("/secret/path/model.onnx")

    start_warm_up(container, broken).join(10)
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["models"] == "failed"
    assert "/secret/path" not in r.text and "FileNotFoundError" in r.text
    assert readiness_of(container).state == "failed"
