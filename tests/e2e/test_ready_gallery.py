"""/ready waits for the gallery too: the served warm-up (``warm_face_models``) runs the models
and then brings this worker's gallery up to the change log's head; until both are done the
worker answers 503. The models here are stand-ins (the real warm-up is exercised by
tests/integration/test_serve_first_payment.py); the gallery and database are real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.api.app import create_app
from smilepay.api.routes_ops import start_warm_up
from smilepay.bootstrap import Container, build_container, build_face_context
from smilepay.config import FaceSettings, Settings
from smilepay.domain.tenants import Scope
from smilepay.instruments import unwatch_sessions
from smilepay.ports.gallery import GalleryEntry

pytestmark = pytest.mark.e2e


class _Models:
    """Just enough of ``FacePipeline`` and ``LivenessCheck`` for ``warm_up``: counts calls."""

    embedder = None
    analyzer = None

    def __init__(self) -> None:
        self.calls = 0

    def find_faces(self, image: Any) -> list[Any]:
        self.calls += 1
        return []

    def examine_frame(self, frame: Any) -> None:
        self.calls += 1


class _SlowCatchUp:
    """The real gallery, with ``catch_up`` held until the test lets it run."""

    def __init__(self, gallery: Any) -> None:
        self.inner, self.release, self.started = gallery, threading.Event(), threading.Event()

    def catch_up(self) -> int:
        self.started.set()
        assert self.release.wait(10)
        return int(self.inner.catch_up())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build_container(f"sqlite:///{tmp_path / 'ready.db'}")
    yield built
    built.close()


def test_ready_waits_for_the_models_and_the_gallery_to_catch_up(container: Container,
                                                                 tmp_path: Path) -> None:
    models = _Models()
    app = Settings(var_dir=tmp_path)
    settings = FaceSettings(secrets_file=str(tmp_path / "secrets.json"))
    face = build_face_context(SqlIdentityStore(container.store.engine), settings,
                              load_pipeline=lambda: models, load_liveness=lambda: models,
                              app=app)
    other = build_face_context(SqlIdentityStore(container.store.engine), settings, app=app)
    vector = np.ones(8, np.float32) / np.sqrt(8)
    other.gallery.add([GalleryEntry("ftpl_1", Scope("ten_r", False), "cus_r", "m", vector)])
    assert face.gallery.head() - face.gallery.applied() == 1  # another worker enrolled
    slow = _SlowCatchUp(face.gallery)
    face.gallery = slow  # type: ignore[assignment]
    container.extras["face"] = face
    client = TestClient(create_app(container))
    thread = start_warm_up(container)
    assert slow.started.wait(10)
    waiting = client.get("/ready")
    assert waiting.status_code == 503 and waiting.json()["models"] == "warming"
    assert models.calls == 2  # the models ran: the gallery is what it waits for
    slow.release.set()
    thread.join(10)
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["models"] == "ready"
    assert slow.inner.applied() == slow.inner.head()
    watch = container.extras["gallery_watch"]
    assert watch.gallery is slow  # /metrics samples this worker's gallery
    watch.close()
    unwatch_sessions(face.sessions.store)
    other.gallery.close()
    slow.inner.close()
