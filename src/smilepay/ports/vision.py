"""Ports of the face pipeline: what the core needs from a detector, an embedder, an analyzer."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from smilepay.vision.types import Face, FaceReading, FaceSignals, Image, Vector


class FaceDetector(Protocol):
    """Finds faces with 5 landmarks, in the given image's pixel coordinates."""

    def detect(self, image: Image) -> list[Face]: ...


class Embedder(Protocol):
    """One face (image + its 5 landmarks) to an L2-normalised vector.

    Each adapter aligns the face the way its model was trained (ArcFace 112x112 for most,
    dlib's own 150x150 chip for dlib), so callers pass the frame and the landmarks.
    """

    model_id: str
    dim: int

    def embed_face(self, image: Image, landmarks5: npt.NDArray[np.float32]) -> Vector: ...


class FaceAnalyzer(Protocol):
    """Expression and head pose of the main face in an image; ``None`` when none is found."""

    def analyze(self, image: Image) -> FaceSignals | None: ...


class FaceReader(Protocol):
    """Dense landmarks, signals and refined 5 alignment points of a detected face."""

    def read_face(self, image: Image, face: Face) -> FaceReading | None: ...


class SmileScorer(Protocol):
    """How much a detected face smiles, 0..1; ``None`` when the model cannot read the face."""

    model_id: str

    def score_smile(self, image: Image, face: Face) -> float | None: ...
