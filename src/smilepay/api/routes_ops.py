"""/ready, and what a served worker starts beside its routes: the model warm-up and housekeeping.

``/health`` says the process answers; ``/ready`` says it can serve a customer at full speed. A
worker started by ``smilepay serve`` loads and runs every face model once on a background
thread as it starts (about 2-5 s here); until that is done ``/ready`` answers 503, so a load
balancer sends it no kiosk, and the first customer after a start is not the one who waits for
the models. An app built without a warm-up (tests, benchmarks) loads models on first use and
says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from smilepay.api.auth import container_of
from smilepay.bootstrap import Container

log = logging.getLogger("smilepay.ready")
router = APIRouter(tags=["ops"])


@dataclass
class Readiness:
    """The warm-up's progress: ``lazy`` (no warm-up asked), ``warming``, ``ready`` or
    ``failed`` (the error is logged; the worker keeps answering 503)."""

    state: str = "lazy"
    took_ms: int | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, state: str, took_ms: int | None = None, error: str | None = None) -> None:
        with self._lock:
            self.state, self.took_ms, self.error = state, took_ms, error

    def as_json(self) -> dict[str, object]:
        with self._lock:
            return {"status": "ready" if self.state in ("ready", "lazy") else "not_ready",
                    "models": self.state, "warmed_in_ms": self.took_ms, "error": self.error}


def readiness_of(container: Container) -> Readiness:
    found = container.extras.setdefault("readiness", Readiness())
    assert isinstance(found, Readiness)
    return found


def warm_face_models(container: Container) -> None:
    """Build the face context, run every model once (detector, landmarks, embedders, passive
    liveness) on a synthetic frame and bring the gallery up to the change log's head; then
    expose this worker's gallery and the shared session store on /metrics."""
    from smilepay import instruments
    from smilepay.bootstrap import face_context_of
    from smilepay.domain.tenants import Scope
    from smilepay.services.face_frames import warm_up
    from smilepay.services.face_index import enrolled_scopes, unindexed

    face = face_context_of(container)
    counts = face.identity.template_counts()
    warm_up(face, [Scope(t, live) for (t, live), _ in sorted(counts.items(), key=lambda c: -c[1])])
    face.gallery.catch_up()  # ready means caught up too: no search waits for the backlog
    for scope, gap in unindexed(face).items():
        log.warning("%d stored templates of tenant %s are not in the %s gallery: run "
                    "`smilepay index rebuild`", gap, scope.tenant_id, face.gallery.name)
    identity = face.identity
    container.extras["gallery_watch"] = instruments.watch_gallery(
        face.gallery, lambda: enrolled_scopes(identity))
    instruments.watch_sessions(face.sessions.store)


def start_warm_up(container: Container,
                  warm: Callable[[Container], None] = warm_face_models) -> threading.Thread:
    """Warm the models on a daemon thread; ``/ready`` follows its progress."""
    readiness = readiness_of(container)
    readiness.set("warming")

    def run() -> None:
        started = time.monotonic()
        try:
            warm(container)
        except Exception as exc:
            log.exception("model warm-up failed: this worker stays not ready")
            readiness.set("failed", error=f"{type(exc).__name__}: see the server log")
            return
        took_ms = round((time.monotonic() - started) * 1000)
        readiness.set("ready", took_ms=took_ms)
        log.info("models warm in %d ms: ready", took_ms)

    thread = threading.Thread(target=run, name="smilepay-warm-up", daemon=True)
    thread.start()
    return thread


@router.get("/ready", responses={503: {"description": "models still loading (or failed)"}})
def ready(request: Request) -> JSONResponse:
    """200 when this worker can serve a customer at full speed, else 503."""
    body = readiness_of(container_of(request)).as_json()
    return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)
