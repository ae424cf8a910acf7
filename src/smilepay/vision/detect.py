"""Face detection on a frame scaled for speed, boxes and landmarks mapped back to the frame."""

from __future__ import annotations

import cv2
import numpy as np

from smilepay.ports.vision import FaceDetector
from smilepay.vision.types import Face, Image

DEFAULT_MAX_SIDE_PX = 320  # YuNet is trained for faces of about 10-300 px
SMALL_IMAGE_PX = 160  # below this, pad: a face that fills the picture is missed otherwise


def scale_face(face: Face, factor: float, shift_xy: tuple[float, float] = (0.0, 0.0)) -> Face:
    """``face`` with coordinates multiplied by ``factor`` then shifted by ``shift_xy``."""
    dx, dy = shift_xy
    x0, y0, x1, y1 = face.box_xyxy
    landmarks = (face.landmarks5 * factor + np.array([dx, dy], dtype=np.float32)).astype(np.float32)
    return Face(box_xyxy=(x0 * factor + dx, y0 * factor + dy, x1 * factor + dx, y1 * factor + dy),
                landmarks5=landmarks, score=face.score)


def detect_faces(
    image: Image, detector: FaceDetector, max_side_px: int = DEFAULT_MAX_SIDE_PX
) -> list[Face]:
    """Faces in ``image`` (frame pixel coordinates), largest first.

    The frame is shrunk so its longer side is at most ``max_side_px`` (raise it for group photos
    with small faces); a small picture such as a tight face crop is padded so the face is found.
    """
    height, width = image.shape[:2]
    factor = min(1.0, max_side_px / max(height, width))
    small = image if factor == 1.0 else cv2.resize(
        image, (max(1, round(width * factor)), max(1, round(height * factor))),
        interpolation=cv2.INTER_AREA)
    pad = 0
    if max(small.shape[:2]) < SMALL_IMAGE_PX:
        pad = max(small.shape[:2]) // 2
        small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    found = detector.detect(np.ascontiguousarray(small))
    inverse = 1.0 / factor
    faces = [scale_face(f, inverse, (-pad * inverse, -pad * inverse)) for f in found]
    return sorted(faces, key=lambda f: f.width * f.height, reverse=True)
