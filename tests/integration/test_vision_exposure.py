"""The exposure gate judges the face itself: a backlit face with detail passes, a dark face is
told apart from a face with bright light behind it, and low contrast is not called darkness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from smilepay.adapters.models.pipeline_factory import load_pipeline
from smilepay.services.face_feedback import MESSAGES, quality_code
from smilepay.vision.pipeline import FacePipeline

pytestmark = pytest.mark.integration
WEBCAM = Path("video") / "bona_fide" / "apfol_webcam_real.webm"


@pytest.fixture(scope="module")
def pipeline() -> Iterator[FacePipeline]:
    loaded = load_pipeline()
    yield loaded
    for part in (loaded.analyzer, loaded.reader):
        if part is not None and hasattr(part, "close"):
            part.close()


def frame_at(data_dir: Path, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(data_dir / WEBCAM))
    try:
        for _ in range(index + 1):
            ok, frame = cap.read()
            assert ok
        return frame
    finally:
        cap.release()


def exposure_reasons(pipeline: FacePipeline, frame: np.ndarray) -> list[str]:
    quality = pipeline.analyze_frame(frame, embed=False).quality
    return [r for r in quality.reasons if not r.startswith(("head", "face too small"))]


def scaled(image: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def test_a_backlit_face_with_detail_passes(pipeline: FacePipeline, data_dir: Path) -> None:
    # window behind him: the face's mean grey is about 45 (the old gate said "too dark")
    frame = frame_at(data_dir, 42)
    assert exposure_reasons(pipeline, frame) == []


def test_a_well_lit_face_in_soft_light_is_not_called_dark(pipeline: FacePipeline,
                                                          data_dir: Path) -> None:
    frame = frame_at(data_dir, 93)  # face mean about 107, grey-level std about 17
    reasons = exposure_reasons(pipeline, frame)
    assert reasons == []
    assert quality_code(("too flat: contrast 5 < 10",)) != "too_dark"


def test_a_dark_room_is_too_dark(pipeline: FacePipeline, data_dir: Path) -> None:
    dark = scaled(frame_at(data_dir, 150), 0.3)
    reasons = exposure_reasons(pipeline, dark)
    assert reasons and reasons[0].startswith("too dark"), reasons  # first: what the kiosk says
    assert MESSAGES[quality_code(tuple(reasons))] == "It's too dark here: face the light."


def test_a_dark_face_against_bright_light_is_backlit(pipeline: FacePipeline,
                                                     data_dir: Path) -> None:
    frame = frame_at(data_dir, 150)
    face = pipeline.analyze_frame(frame, embed=False).face
    x1, y1, x2, y2 = (int(v) for v in face.box_xyxy)
    lit = scaled(frame, 1.6)  # a bright room ...
    lit[max(y1, 0):y2, max(x1, 0):x2] = scaled(frame[max(y1, 0):y2, max(x1, 0):x2], 0.3)
    reasons = exposure_reasons(pipeline, lit)  # ... with the face in shadow
    assert reasons and reasons[0].startswith("backlit"), reasons
    assert "light behind you" in MESSAGES[quality_code(tuple(reasons))]


def test_a_washed_out_face_is_too_bright(pipeline: FacePipeline, data_dir: Path) -> None:
    glare = scaled(frame_at(data_dir, 150), 3.2)
    reasons = exposure_reasons(pipeline, glare)
    assert reasons and reasons[0].startswith("too bright"), reasons
