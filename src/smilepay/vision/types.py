"""Plain values the face pipeline passes around (numpy arrays and floats, no frameworks)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
class FaceReading:
    """What the dense landmarker read from one face, in frame pixel coordinates."""

    signals: FaceSignals
    landmarks5: npt.NDArray[np.float32]  # 5 x 2 from the dense points, YuNet's order
    dense_landmarks: npt.NDArray[np.float32]  # 478 x 2


@dataclass(frozen=True)
class Embedding:
    """A face embedding, L2-normalised, with the model that made it."""

    vector: Vector
    model_id: str


@dataclass(frozen=True)
class QualityReport:
    """Measured quality of one face and the gate's verdict; ``reasons`` is empty when it passes."""

    face_px: float  # the box's shorter side, frame pixels
    eye_distance_px: float
    sharpness: float  # variance of the Laplacian on the aligned 112x112 grey chip
    brightness: float  # mean grey level of the chip, 0..255
    contrast: float  # standard deviation of the chip's grey levels
    yaw_deg: float
    pitch_deg: float
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class FrameAnalysis:
    """Everything the engine knows about the paying face of one frame."""

    face: Face  # the chosen (paying) face
    faces_found: int
    quality: QualityReport
    signals: FaceSignals | None  # None when the landmarker could not read the face
    embedding: Embedding | None  # the strategy's template vector; None when not asked for
    chip: Image  # the aligned 112x112 BGR face
    timings_ms: dict[str, float]
    landmarks5: npt.NDArray[np.float32] | None = None  # the points the chip was aligned with
    cpu_ms: dict[str, float] = field(default_factory=dict)  # process CPU time per stage
    member_vectors: tuple[Vector, ...] = ()  # a fused strategy's member vectors computed so far
