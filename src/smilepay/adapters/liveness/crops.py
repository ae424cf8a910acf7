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
    side = max(round(max(x1 - x0, y1 - y0) * scale), 1)
    left, top = round(cx - side / 2), round(cy - side / 2)
    height, width = image.shape[:2]
    # Slice what lies inside the frame, pad only the chip (not the whole frame) with black.
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + side, width), min(top + side, height)
    chip = np.zeros((side, side, 3), dtype=np.uint8)
    if sx1 > sx0 and sy1 > sy0:
        chip[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = image[sy0:sy1, sx0:sx1]
    return np.asarray(cv2.resize(chip, (size_px, size_px), interpolation=cv2.INTER_AREA),
                      dtype=np.uint8)
