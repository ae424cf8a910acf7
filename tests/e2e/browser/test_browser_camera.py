"""Browser infrastructure: a served page gets frames from the fake camera and posts one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Request

from e2e.browser.conftest import collecting_console

pytestmark = pytest.mark.e2e


def camera_check_app(received: list[bytes]) -> FastAPI:
    from smilepay.api.routes_pages import router as pages

    app = FastAPI()
    app.include_router(pages)

    @app.post("/test/frame")
    async def frame(request: Request) -> dict[str, Any]:
        import cv2

        from smilepay.adapters.models.pipeline_factory import default_detector
        from smilepay.vision.detect import detect_faces

        body = await request.body()
        received.append(body)
        frame = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        return {"faces": len(detect_faces(frame, default_detector())),
                "content_type": request.headers["content-type"]}

    return app


def test_the_page_posts_a_jpeg_frame_of_the_fake_camera_with_a_face_in_it(
    feed: Callable[..., Path], serve: Callable[[Any], Any],
    open_browser: Callable[[Path, str], Any], shoot: Callable[[Any, str], Path],
) -> None:
    camera = feed("video/bona_fide/apfol_webcam_real.webm", "apfol_real_2s", duration_s=2.0)
    received: list[bytes] = []
    server = serve(camera_check_app(received))
    page = open_browser(camera, server.url)
    with collecting_console(page) as console:
        page.goto(f"{server.url}/camera?post=/test/frame&auto=1")
        page.wait_for_selector("#result[data-state=done]")
        shot = shoot(page, "camera_check")
    assert len(received) == 1, console
    jpeg = received[0]
    assert jpeg[:3] == b"\xff\xd8\xff", "expected a JPEG"

    import cv2

    from smilepay.adapters.models.pipeline_factory import default_detector
    from smilepay.vision.detect import detect_faces

    frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert frame.shape == (480, 640, 3)
    faces = detect_faces(frame, default_detector())
    assert len(faces) == 1, f"expected the feed's one face, got {len(faces)}"
    assert faces[0].width > 80
    assert page.inner_text("#message") == "The camera works and sees one face."
    assert '"content_type":"image/jpeg"' in page.inner_text("#result")
    assert shot.stat().st_size > 10_000
