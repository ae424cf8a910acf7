"""Plain values the face pipeline passes around (numpy arrays and floats, no frameworks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # H x W x 3, BGR (OpenCV order) unless a name says otherwise
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Face:
    """One detected face in frame pixel coordinates."""

    box_xyxy: tuple[float, float, float, float]
    landmarks5: npt.NDArray[np.float32]  # 5 x 2: right eye, left eye, nose, mouth right, left
    score: float

    @property
    def width(self) -> float:
        return self.box_xyxy[2] - self.box_xyxy[0]

    @property
    def height(self) -> float:
        return self.box_xyxy[3] - self.box_xyxy[1]


@dataclass(frozen=True)
class FaceSignals:
    """Expression and pose of one face (MediaPipe blendshapes and transform), plain values."""

    smile: float  # 0..1
    blink_left: float  # 0..1 (1 = eye closed)
    blink_right: float
    mouth_open: float  # 0..1 (jawOpen)
    yaw_deg: float  # + = face turned to the subject's left
    pitch_deg: float
    roll_deg: float


@dataclass(frozen=True)
class Embedding:
    """A face embedding, L2-normalised, with the model that made it."""

    vector: Vector
    model_id: str
