"""``MediaPipeFaceAnalyzer``: FaceLandmarker blendshapes and head pose as ``FaceSignals``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from smilepay.modelstore import model_path
from smilepay.vision.align import square_crop
from smilepay.vision.landmarks import landmarks5_from_dense
from smilepay.vision.types import Face, FaceReading, FaceSignals, Image


def pose_from_matrix(matrix: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from MediaPipe's 4x4 face transformation matrix.

    Yaw is positive when the face turns to the subject's left (the viewer's right).
    """
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    scale = np.linalg.norm(r[:, 0])
    r = r / (scale if scale > 0 else 1.0)
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, float(r[0, 2])))))
    pitch = math.degrees(math.atan2(-float(r[1, 2]), float(r[2, 2])))
    roll = math.degrees(math.atan2(-float(r[0, 1]), float(r[0, 0])))
    return yaw, pitch, roll


class MediaPipeFaceAnalyzer:
    """Smile, blink, mouth open and head pose of the largest face MediaPipe finds.

    Create once (loading takes about 250 ms); ``analyze`` takes a BGR image, ideally a crop
    around the face of interest (its own detector is short range, about 1 m).
    """

    def __init__(self, min_detection_confidence: float = 0.3) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path("face_landmarker"))),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=1,
            min_face_detection_confidence=min_detection_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker: Any = vision.FaceLandmarker.create_from_options(options)

    def _detect(self, image: Image) -> Any:
        import mediapipe as mp

        rgb = np.ascontiguousarray(image[:, :, ::-1])
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = self._landmarker.detect(frame)
        return result if result.face_landmarks else None

    def analyze(self, image: Image) -> FaceSignals | None:
        result = self._detect(image)
        if result is None or not result.face_blendshapes:
            return None
        return self._signals(result)

    def read_face(self, image: Image, face: Face, crop_scale: float = 2.0) -> FaceReading | None:
        """Signals and landmarks of ``face``, read on a square crop ``crop_scale`` times its size;
        points come back in ``image`` pixels, the 5 alignment points in YuNet's order."""
        crop, (x0, y0) = square_crop(image, face.box_xyxy, crop_scale)
        if crop.shape[0] < 8 or crop.shape[1] < 8:
            return None
        result = self._detect(crop)
        if result is None or not result.face_blendshapes:
            return None
        height, width = crop.shape[:2]
        dense = np.array([[p.x * width + x0, p.y * height + y0] for p in result.face_landmarks[0]],
                         dtype=np.float32)
        return FaceReading(signals=self._signals(result),
                           landmarks5=landmarks5_from_dense(dense, face.landmarks5),
                           dense_landmarks=dense)

    def _signals(self, result: Any) -> FaceSignals:
        shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
        yaw, pitch, roll = (0.0, 0.0, 0.0)
        if result.facial_transformation_matrixes:
            matrix = np.asarray(result.facial_transformation_matrixes[0])
            yaw, pitch, roll = pose_from_matrix(matrix)
        return FaceSignals(
            smile=(shapes.get("mouthSmileLeft", 0.0) + shapes.get("mouthSmileRight", 0.0)) / 2,
            blink_left=shapes.get("eyeBlinkLeft", 0.0),
            blink_right=shapes.get("eyeBlinkRight", 0.0),
            mouth_open=shapes.get("jawOpen", 0.0),
            yaw_deg=yaw,
            pitch_deg=pitch,
            roll_deg=roll,
        )

    def close(self) -> None:
        """Release MediaPipe's native threads (a process may not exit while they run); safe to
        call twice."""
        landmarker, self._landmarker = self._landmarker, None
        if landmarker is not None:
            landmarker.close()
