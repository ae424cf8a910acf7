"""``YuNetDetector``: YuNet 2023mar through ``cv2.FaceDetectorYN`` (faces with 5 landmarks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from smilepay.adapters.models.runtime import set_opencv_threads
from smilepay.modelstore import model_path
from smilepay.vision.types import Face, Image


class YuNetDetector:
    """Detects faces in the image as given (callers scale frames down for speed)."""

    def __init__(self, score_threshold: float = 0.7, nms_threshold: float = 0.3) -> None:
        import cv2

        set_opencv_threads(1)
        self._detector: Any = cv2.FaceDetectorYN.create(
            str(model_path("yunet")), "", (320, 320), score_threshold, nms_threshold, 5000
        )
        self._size: tuple[int, int] = (320, 320)

    def detect(self, image: Image) -> list[Face]:
        height, width = image.shape[:2]
        if (width, height) != self._size:
            self._detector.setInputSize((width, height))
            self._size = (width, height)
        _, rows = self._detector.detect(image)
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, w, h = (float(v) for v in row[:4])
            landmarks = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            faces.append(Face(box_xyxy=(x, y, x + w, y + h), landmarks5=landmarks,
                              score=float(row[14])))
        return faces
