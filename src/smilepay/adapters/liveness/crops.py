"""Square crops around a face for passive models (each model wants its own margin)."""

from __future__ import annotations

import cv2
import numpy as np

from smilepay.vision.types import Face, Image


def square_crop(image: Image, face: Face | None, scale: float, size_px: int) -> Image:
    """A ``size_px`` square, ``scale`` face-sides wide around the face, padded with black.

    ``face=None`` means the image already is a face crop: it is resized as it is.
    """
    if face is None:
        return np.asarray(cv2.resize(image, (size_px, size_px), interpolation=cv2.INTER_AREA),
                          dtype=np.uint8)
    x0, y0, x1, y1 = face.box_xyxy
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * scale / 2
    pad = int(np.ceil(half)) + 1
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    left, top = round(cx - half) + pad, round(cy - half) + pad
    side = max(round(2 * half), 1)
    chip = padded[top:top + side, left:left + side]
    return np.asarray(cv2.resize(chip, (size_px, size_px), interpolation=cv2.INTER_AREA),
                      dtype=np.uint8)
