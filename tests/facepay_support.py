"""Helpers for the face-payment tests: an app on a scratch SQLite with a demo merchant, and
frame sources (the webcam videos, a slideshow of stills) posted with a simulated clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi.testclient import TestClient

PHONE = "+4915112345678"


@dataclass
class FaceApp:
    client: TestClient
    container: Any
    face: Any
    keys: Any
    clock: Any

    def close(self) -> None:
        self.face.close()
        self.container.close()

    def as_terminal(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys.terminal_key}"}

    def as_merchant(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys.secret_key}"}


def build_face_app(tmp: Path, challenge: str = "smile", *, real_clock: bool = False,
                   step_timeout_ms: int = 6000, **policy: Any) -> FaceApp:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.api.app import create_app
    from smilepay.bootstrap import build_container, build_face_context
    from smilepay.config import FaceSettings
    from smilepay.services.context import FixedClock, SystemClock
    from smilepay.services.demo import create_demo_merchant
    from smilepay.services.face_policy import policy_from

    clock: Any = SystemClock() if real_clock else FixedClock(now=int(time.time() * 1000))
    container = build_container(f"sqlite:///{tmp / 'smilepay.db'}", clock=clock)
    settings = FaceSettings(challenge=challenge, secrets_file=str(tmp / "secrets.json"),
                            index_dir=str(tmp / "index"), step_timeout_ms=step_timeout_ms)
    base = policy_from(settings)
    from dataclasses import replace

    face = build_face_context(SqlIdentityStore(container.store.engine), settings,
                              replace(base, **policy) if policy else base)
    container.extras["face"] = face
    app = create_app(container)
    return FaceApp(TestClient(app), container, face, create_demo_merchant(container), clock)


def video_frames(path: Path, every: int = 2, limit: int | None = None) -> Iterator[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    i = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok or (limit is not None and i >= limit * every):
                return
            if i % every == 0:
                yield frame
            i += 1
    finally:
        cap.release()


def slideshow_frames(stills: list[tuple[Path, float]], fps: float = 15.0) -> Iterator[np.ndarray]:
    """Each still for its seconds (EXIF orientation applied), scaled into 640x480."""
    from PIL import Image, ImageOps

    for path, seconds in stills:
        with Image.open(path) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        frame = letterbox(rgb[:, :, ::-1])
        for _ in range(int(seconds * fps)):
            yield frame


def letterbox(frame: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    small = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def jpeg(frame: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(data)


def stream(app: FaceApp, session_id: str, frames: Iterator[np.ndarray], headers: dict[str, str],
           step_ms: int = 66) -> dict[str, Any]:
    """Post frames until the challenge is decided; the last answer."""
    answer: dict[str, Any] = {"state": "no_frames"}
    for frame in frames:
        app.clock.now += step_ms
        r = app.client.post(f"/v1/face/sessions/{session_id}/frames", content=jpeg(frame),
                            headers={**headers, "Content-Type": "image/jpeg",
                                     "X-Capture-Ms": str(app.clock.now)})
        assert r.status_code == 200, r.text
        answer = r.json()
        if answer["state"] != "collecting":
            return answer
    return answer


def verified_signup(app: FaceApp, phone: str, name: str) -> str:
    """A customer signed up at the terminal with the texted code; the wallet session token."""
    r = app.client.post("/v1/face/signups", json={"phone": phone}, headers=app.as_terminal())
    assert r.status_code == 200, r.text
    signup = r.json()
    r = app.client.post(f"/v1/face/signups/{signup['id']}/verify",
                        json={"code": signup["test_code"], "name": name},
                        headers=app.as_terminal())
    assert r.status_code == 200, r.text
    return str(r.json()["session_token"])


def sign_up(app: FaceApp, phone: str = PHONE, name: str = "Apfol") -> str:
    """A verified customer with consent; the wallet session token."""
    token = verified_signup(app, phone, name)
    text = app.client.get("/v1/face/consent_text").json()
    r = app.client.post("/v1/face/consent", json={"version": text["version"],
                                                   "digest": text["digest"]},
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return str(token)


def enrol_from_photos(world: FaceApp, data_dir: Path) -> str:
    from smilepay.domain.tenants import Scope
    from smilepay.services.enrol import enrol_from_images
    from smilepay.vision.decode import read_image

    token = sign_up(world)
    customer = world.client.get("/v1/face/wallet",
                                headers={"Authorization": f"Bearer {token}"}).json()
    photos = [read_image(str(p)) for p in sorted((data_dir / "pad_apfol" / "live").glob("*"))[:8]]
    scope = Scope(world.keys.tenant_id, livemode=False)
    done = enrol_from_images(world.face, scope, customer["customer"]["id"], photos,
                             int(time.time() * 1000))
    assert done["frames_used"] >= 3
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 5000},
                          headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    return token
