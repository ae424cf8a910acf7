"""The frame endpoint of a 3D-camera terminal over HTTP: ``multipart/form-data`` with a JPEG
``frame`` part and a 16-bit PNG ``depth`` part; what is refused, with which status and error.

No face model runs here: every request is refused (or accepted) before a frame is analysed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest

from facepay_support import FaceApp, build_face_app, jpeg

pytestmark = pytest.mark.e2e
GREY = np.full((480, 640, 3), 127, np.uint8)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    found = build_face_app(tmp_path_factory.mktemp("facepay_depth_api"))
    yield found
    found.close()


def png(depth: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", depth)
    assert ok
    return bytes(data)


def depth_session(world: FaceApp) -> str:
    r = world.client.post("/v1/payment_intents", headers=world.as_merchant(), json={
        "amount_minor": 450, "currency": "eur", "terminal": world.keys.terminal_id})
    assert r.status_code == 200, r.text
    r = world.client.post("/v1/face/payments", headers=world.as_terminal(),
                          json={"payment_intent": r.json()["id"], "capability": "rgb_depth"})
    assert r.status_code == 200, r.text
    assert r.json()["capability"] == "rgb_depth"
    return str(r.json()["id"])


def post(world: FaceApp, session_id: str, **parts: tuple[str, bytes, str]) -> Any:
    return world.client.post(f"/v1/face/sessions/{session_id}/frames", files=parts,
                             headers=world.as_terminal())


def test_a_depth_map_of_another_size_than_the_frame_is_a_400_naming_both_sizes(
    world: FaceApp,
) -> None:
    r = post(world, depth_session(world), frame=("f.jpg", jpeg(GREY), "image/jpeg"),
             depth=("d.png", png(np.full((240, 320), 600, np.uint16)), "image/png"))
    assert r.status_code == 400, r.text
    assert r.json() == {"error": {
        "type": "invalid_request_error", "code": "invalid_input", "param": "depth",
        "message": "expected a depth map of the colour frame's size 640x480, got 320x240"}}


@pytest.mark.parametrize(("depth", "message"), [
    (np.full((480, 640), 60, np.uint8), "expected a 16-bit greyscale PNG depth map, got 8-bit "
                                        "greyscale"),
    (np.full((480, 640, 3), 600, np.uint16), "expected a 16-bit greyscale PNG depth map, got "
                                             "16-bit RGB"),
])
def test_a_depth_map_that_is_not_16_bit_single_channel_is_refused(
    world: FaceApp, depth: np.ndarray, message: str
) -> None:
    r = post(world, depth_session(world), frame=("f.jpg", jpeg(GREY), "image/jpeg"),
             depth=("d.png", png(depth), "image/png"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == message


def test_a_multipart_body_needs_a_frame_part_and_a_png_depth(world: FaceApp) -> None:
    session_id = depth_session(world)
    r = post(world, session_id, depth=("d.png", png(np.zeros((480, 640), np.uint16)),
                                       "image/png"))
    assert r.status_code == 400 and r.json()["error"]["param"] == "frame", r.text
    r = post(world, session_id, frame=("f.jpg", jpeg(GREY), "image/jpeg"),
             depth=("d.png", jpeg(GREY), "image/jpeg"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"].startswith("expected a PNG depth map, got"), r.text
    r = world.client.post(f"/v1/face/sessions/{session_id}/frames", content=b"{}",
                          headers={**world.as_terminal(), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "frame", r.text
