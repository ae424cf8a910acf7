"""Alignment: a 5-point similarity transform onto the ArcFace 112x112 template (pure)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput
from smilepay.vision.types import Image

# Right eye, left eye, nose tip, right mouth corner, left mouth corner (image left to right).
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)

FloatArray = npt.NDArray[np.float32]


def estimate_similarity(src: FloatArray, dst: FloatArray) -> npt.NDArray[np.float64]:
    """The 2x3 similarity (rotation, uniform scale, shift) that best maps ``src`` onto ``dst``.

    Least squares in closed form (Umeyama 1991), no reflection.
    """
    src64 = np.asarray(src, dtype=np.float64)
    dst64 = np.asarray(dst, dtype=np.float64)
    if src64.shape != dst64.shape or src64.ndim != 2 or src64.shape[1] != 2 or len(src64) < 2:
        raise InvalidInput(
            f"expected two N x 2 point sets (N >= 2), got {src64.shape} and {dst64.shape}")
    src_mean, dst_mean = src64.mean(axis=0), dst64.mean(axis=0)
    src_c, dst_c = src64 - src_mean, dst64 - dst_mean
    cov = dst_c.T @ src_c / len(src64)
    u, s, vt = np.linalg.svd(cov)
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1.0
    rotation = u @ d @ vt
    var_src = (src_c**2).sum() / len(src64)
    if var_src <= 0:
        raise InvalidInput("expected distinct landmark points, got points that coincide")
    scale = float(np.trace(np.diag(s) @ d) / var_src)
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def square_crop(image: Image, box_xyxy: tuple[float, float, float, float],
                scale: float) -> tuple[Image, tuple[int, int]]:
    """A square crop ``scale`` times the box's larger side around its centre, clipped to the
    image, and the crop's top-left corner in image pixels."""
    height, width = image.shape[:2]
    cx, cy = (box_xyxy[0] + box_xyxy[2]) / 2, (box_xyxy[1] + box_xyxy[3]) / 2
    half = max(box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1]) * scale / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(width, int(cx + half)), min(height, int(cy + half))
    return np.ascontiguousarray(image[y0:y1, x0:x1]), (x0, y0)


def alignment_matrix(
    landmarks5: FloatArray, size: int = 112, template: FloatArray = ARCFACE_TEMPLATE_112
) -> npt.NDArray[np.float64]:
    """The 2x3 matrix taking frame pixels to a ``size`` x ``size`` chip (template scaled)."""
    points = np.asarray(landmarks5, dtype=np.float32)
    if points.shape != (5, 2):
        raise InvalidInput(f"expected 5 x 2 landmarks, got shape {points.shape}")
    return estimate_similarity(points, template * (size / 112.0))


def align_face(
    image: Image, landmarks5: FloatArray, size: int = 112,
    template: FloatArray = ARCFACE_TEMPLATE_112,
) -> Image:
    """The face warped to a ``size`` x ``size`` chip, eyes, nose and mouth on the template."""
    matrix = alignment_matrix(landmarks5, size, template)
    warped = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR)
    return np.asarray(warped, dtype=np.uint8)
