"""A terminal with a 3D camera: colour frames from the bona fide webcam video, each sent with a
depth map (docs/depth-format.md) through the multipart frame endpoint.

Real models, a scratch SQLite database, the HTTP API through TestClient, a simulated clock.
The depth maps come from the project's synthetic depth generator
(``smilepay.vision.liveness.synthetic_depth``): for each colour frame, of a pool of scenes of
one kind (a face, a flat photo, a bent photo), the one whose face layout (landmarks within the
face box) is nearest to the face the detector finds, scaled so that its face box covers the
detected box, as a registered depth camera would see it. A face's relief passes; a flat or bent
sheet in front of the camera is refused with a depth reason, although the video answers the
smile challenge.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facepay_support import FaceApp, build_face_app, jpeg, sign_up, video_frames
from smilepay.vision.liveness.synthetic_depth import DepthScene, make_scene
from smilepay.vision.types import Face
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"
WALL_MM = 2000  # what the camera sees where no face was found
POOL = 100  # synthetic scenes per kind to pick the nearest face layout from


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[FaceApp]:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    found = build_face_app(tmp_path_factory.mktemp("facepay_depth"))
    yield found
    found.close()


def face_layout(face: Face) -> np.ndarray:
    """The five landmarks as fractions of the face box (the pose, without place and size)."""
    x0, y0, x1, y1 = face.box_xyxy
    return ((np.asarray(face.landmarks5, np.float64) - [x0, y0]) / [x1 - x0, y1 - y0]).ravel()


@functools.cache
def scene_pool(kind: str) -> tuple[list[DepthScene], np.ndarray]:
    scenes = [make_scene(kind, seed) for seed in range(POOL)]
    return scenes, np.array([face_layout(s.face) for s in scenes])


def depth_png(world: FaceApp, frame: np.ndarray, kind: str) -> bytes:
    """A 16-bit PNG of a synthetic ``kind`` scene placed on the face detected in ``frame``."""
    height, width = frame.shape[:2]
    faces = world.face.pipeline.find_faces(frame)
    depth = np.full((height, width), WALL_MM, np.uint16)
    if faces:
        face = max(faces, key=lambda f: f.width * f.height)
        scenes, layouts = scene_pool(kind)
        scene = scenes[int(np.argmin(np.linalg.norm(layouts - face_layout(face), axis=1)))]
        src = np.array(scene.face.box_xyxy).reshape(2, 2)
        dst = np.array(face.box_xyxy).reshape(2, 2)
        scale = (dst[1] - dst[0]) / (src[1] - src[0])
        shift = dst[0] - src[0] * scale
        move = np.array([[scale[0], 0.0, shift[0]], [0.0, scale[1], shift[1]]])
        depth = cv2.warpAffine(scene.depth_mm, move, (width, height), flags=cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    ok, data = cv2.imencode(".png", depth)
    assert ok and depth.dtype == np.uint16
    return bytes(data)


def post_frame(world: FaceApp, session_id: str, headers: dict[str, str], frame: np.ndarray,
               depth: bytes | None) -> Any:
    world.clock.now += 66
    files: dict[str, tuple[str, bytes, str]] = {"frame": ("frame.jpg", jpeg(frame), "image/jpeg")}
    if depth is not None:
        files["depth"] = ("depth.png", depth, "image/png")
    return world.client.post(f"/v1/face/sessions/{session_id}/frames", files=files,
                             headers={**headers, "X-Capture-Ms": str(world.clock.now)})


def stream_with_depth(world: FaceApp, session_id: str, headers: dict[str, str], data_dir: Path,
                      kind: str) -> dict[str, Any]:
    """Post the video's frames, each with a depth map of ``kind``, until the session decides."""
    answer: dict[str, Any] = {"state": "no_frames"}
    for frame in video_frames(data_dir / REAL):
        r = post_frame(world, session_id, headers, frame, depth_png(world, frame, kind))
        assert r.status_code == 200, r.text
        answer = r.json()
        if answer["state"] != "collecting":
            return answer
    return answer


def new_payment(world: FaceApp) -> str:
    r = world.client.post("/v1/payment_intents", headers=world.as_merchant(), json={
        "amount_minor": 990, "currency": "eur", "terminal": world.keys.terminal_id,
        "description": "Noodles"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def open_depth_payment(world: FaceApp) -> dict[str, Any]:
    r = world.client.post("/v1/face/payments", headers=world.as_terminal(),
                          json={"payment_intent": new_payment(world), "capability": "rgb_depth"})
    assert r.status_code == 200, r.text
    session: dict[str, Any] = r.json()
    assert session["capability"] == "rgb_depth" and session["steps"] == ["smile"]
    return session


def liveness_audit(world: FaceApp, subject: str) -> dict[str, Any]:
    r = world.client.get("/v1/face/audit", params={"subject": subject},
                         headers=world.as_merchant())
    assert r.status_code == 200, r.text
    entries = [a for a in r.json()["data"] if a["kind"].startswith("liveness_")]
    assert entries, r.json()
    return dict(entries[0])


@pytest.fixture(scope="module")
def enrolled(world: FaceApp, data_dir: Path) -> str:
    """Enrolled on the 3D terminal: the face's relief passes the depth check."""
    token = sign_up(world)
    auth = {"Authorization": f"Bearer {token}"}
    r = world.client.post("/v1/face/enrolments", json={"capability": "rgb_depth"}, headers=auth)
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream_with_depth(world, session["id"], auth, data_dir, "face")
    assert answer["state"] == "passed", answer
    r = world.client.post(f"/v1/face/enrolments/{session['id']}/complete", headers=auth)
    assert r.status_code == 200, r.text
    audit = liveness_audit(world, r.json()["customer"])
    assert audit["decision"] == "passed" and audit["values"]["capability"] == "rgb_depth"
    assert audit["values"]["liveness_depth"] >= 0.5
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 5000}, headers=auth)
    assert r.status_code == 200, r.text
    return token


def test_a_face_with_relief_pays_on_a_3d_terminal(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    session = open_depth_payment(world)
    answer = stream_with_depth(world, session["id"], world.as_terminal(), data_dir, "face")
    assert answer["state"] == "passed", answer
    r = world.client.post(f"/v1/face/payments/{session['id']}/confirm", json={"phone": "5678"},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded", r.json()
    audit = liveness_audit(world, r.json()["payment_intent"])
    assert audit["decision"] == "passed" and audit["values"]["liveness_depth"] >= 0.5


@pytest.mark.parametrize("sheet", ["flat", "bent"])
def test_a_photo_held_up_to_a_3d_terminal_is_refused_for_its_flat_relief(
    world: FaceApp, enrolled: str, data_dir: Path, sheet: str
) -> None:
    session = open_depth_payment(world)
    answer = stream_with_depth(world, session["id"], world.as_terminal(), data_dir, sheet)
    assert answer["state"] == "failed", answer
    assert "depth:flat_or_bent_surface" in answer["reasons"], answer
    assert not any(r.startswith("smile") for r in answer["reasons"]), answer  # smile answered
    r = world.client.post(f"/v1/face/payments/{session['id']}/confirm", json={"phone": "5678"},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refused" and r.json()["reason"] == "challenge_not_passed"
    audit = liveness_audit(world, r.json()["payment_intent"])
    assert audit["decision"] == "failed", audit
    assert "depth:flat_or_bent_surface" in audit["reasons"], audit
    assert audit["values"]["liveness_depth"] < 0.5 and audit["values"]["capability"] == "rgb_depth"


def test_a_frame_without_depth_on_a_3d_session_is_refused_by_name(
    world: FaceApp, data_dir: Path
) -> None:
    session = open_depth_payment(world)
    frame = next(video_frames(data_dir / REAL))
    for r in (post_frame(world, session["id"], world.as_terminal(), frame, None),
              world.client.post(f"/v1/face/sessions/{session['id']}/frames", content=jpeg(frame),
                                headers={**world.as_terminal(), "Content-Type": "image/jpeg"})):
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_input" and error["param"] == "depth", error
        assert error["message"].startswith("expected a depth map with every frame"), error


def test_an_rgb_session_refuses_a_depth_map_and_an_unknown_capability_is_named(
    world: FaceApp, data_dir: Path
) -> None:
    r = world.client.post("/v1/face/payments", headers=world.as_terminal(),
                          json={"payment_intent": new_payment(world)})
    assert r.status_code == 200 and r.json()["capability"] == "rgb", r.text
    frame = next(video_frames(data_dir / REAL))
    r = post_frame(world, r.json()["id"], world.as_terminal(), frame,
                   depth_png(world, frame, "face"))
    assert r.status_code == 400 and r.json()["error"]["param"] == "depth", r.text
    r = world.client.post("/v1/face/payments", headers=world.as_terminal(),
                          json={"payment_intent": new_payment(world), "capability": "lidar"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == "capability"
    assert error["message"] == "expected a capability in ('rgb', 'rgb_depth'), got 'lidar'"
