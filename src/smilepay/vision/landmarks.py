"""Five alignment points from MediaPipe's 478 dense landmarks (pure).

YuNet's five points are coarse (they come from a 320 px frame); the landmarker's iris centres,
nose tip and mouth corners are finer, and aligning with them raised TAR at FAR 1e-4 of every
embedder (docs/accuracy.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput

FloatArray = npt.NDArray[np.float32]

IRIS_A, IRIS_B, NOSE_TIP, MOUTH_A, MOUTH_B = 468, 473, 1, 61, 291


def landmarks5_from_dense(dense: FloatArray, reference5: FloatArray | None = None) -> FloatArray:
    """(eye, eye, nose, mouth corner, mouth corner) in the order of ``reference5`` (YuNet's:
    image-left eye first), else ordered left to right in the image."""
    points = np.asarray(dense, dtype=np.float32)
    if points.ndim != 2 or points.shape[0] < 478 or points.shape[1] < 2:
        raise InvalidInput(f"expected 478 x 2 dense landmarks, got shape {points.shape}")
    five = points[[IRIS_A, IRIS_B, NOSE_TIP, MOUTH_A, MOUTH_B], :2].copy()
    swapped = five[[1, 0, 2, 4, 3]]
    if reference5 is not None:
        ref = np.asarray(reference5, dtype=np.float32)
        if np.abs(swapped - ref).sum() < np.abs(five - ref).sum():
            five = swapped
    elif five[0, 0] > five[1, 0]:
        five = swapped
    return five


def choose_alignment_points(detected5: FloatArray, refined5: FloatArray | None,
                            max_shift: float = 0.35) -> FloatArray:
    """The refined points, unless missing or further from the detector's than ``max_shift``
    eye distances on average (the landmarker then read another face or failed)."""
    detected = np.asarray(detected5, dtype=np.float32)
    if refined5 is None:
        return detected
    refined = np.asarray(refined5, dtype=np.float32)
    eye_distance = float(np.linalg.norm(detected[0] - detected[1]))
    mean_shift = float(np.linalg.norm(refined - detected, axis=1).mean())
    return refined if mean_shift <= max_shift * max(eye_distance, 1e-6) else detected
