"""``FacePipeline``: models loaded once; per frame the paying face, quality, signals, embedding."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import numpy as np

from smilepay.ports.vision import Embedder, FaceAnalyzer, FaceDetector
from smilepay.vision.align import align_face
from smilepay.vision.choose import AMBIGUITY_RATIO, choose_paying_face
from smilepay.vision.detect import DEFAULT_MAX_SIDE_PX, detect_faces
from smilepay.vision.quality import QualityPolicy, assess_quality
from smilepay.vision.types import Embedding, Face, FaceSignals, FrameAnalysis, Image

T = TypeVar("T")
ANALYSIS_CROP_SCALE = 2.0  # the landmarker sees a square this many face-widths wide


def face_crop(image: Image, face: Face, scale: float = ANALYSIS_CROP_SCALE) -> Image:
    """A square crop centred on ``face``, ``scale`` times its larger side, clipped to the frame."""
    height, width = image.shape[:2]
    cx = (face.box_xyxy[0] + face.box_xyxy[2]) / 2
    cy = (face.box_xyxy[1] + face.box_xyxy[3]) / 2
    half = max(face.width, face.height) * scale / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(width, int(cx + half)), min(height, int(cy + half))
    return np.ascontiguousarray(image[y0:y1, x0:x1])


class FacePipeline:
    """Detect, choose the paying face, align, read signals, gate quality, embed.

    Build once with ``FacePipeline.load()`` (or inject ports, e.g. fakes in tests) and call
    ``analyze_frame`` per frame.
    """

    def __init__(
        self, detector: FaceDetector, analyzer: FaceAnalyzer | None, embedder: Embedder | None,
        policy: QualityPolicy | None = None, detect_max_side_px: int = DEFAULT_MAX_SIDE_PX,
        ambiguity_ratio: float = AMBIGUITY_RATIO,
    ) -> None:
        self.detector, self.analyzer, self.embedder = detector, analyzer, embedder
        self.policy = policy or QualityPolicy()
        self.detect_max_side_px = detect_max_side_px
        self.ambiguity_ratio = ambiguity_ratio

    @classmethod
    def load(cls, strategy: str | None = None, *, with_analyzer: bool = True,
             policy: QualityPolicy | None = None,
             detect_max_side_px: int = DEFAULT_MAX_SIDE_PX) -> FacePipeline:
        """The real models: YuNet, MediaPipe FaceLandmarker and the named recognition strategy."""
        from smilepay.adapters.models.mediapipe_analyzer import MediaPipeFaceAnalyzer
        from smilepay.adapters.models.strategies import load_strategy
        from smilepay.adapters.models.yunet import YuNetDetector

        analyzer = MediaPipeFaceAnalyzer() if with_analyzer else None
        return cls(YuNetDetector(), analyzer, load_strategy(strategy), policy, detect_max_side_px)

    @property
    def model_id(self) -> str | None:
        return self.embedder.model_id if self.embedder else None

    def find_faces(self, image: Image) -> list[Face]:
        return detect_faces(image, self.detector, self.detect_max_side_px)

    def analyze_frame(self, image: Image, *, embed: bool = True,
                      signals: bool = True) -> FrameAnalysis:
        """The paying face of ``image`` (BGR) with quality, signals and embedding.

        Raises ``NoFaceFound`` or ``AmbiguousFaces``; a face failing the quality gate is
        returned with ``quality.reasons`` set (call ``require_quality`` to raise instead).
        """
        timings: dict[str, float] = {}

        def timed(stage: str, work: Callable[[], T]) -> T:
            start = time.perf_counter()
            result = work()
            timings[stage] = (time.perf_counter() - start) * 1000
            return result

        height, width = image.shape[:2]
        faces = timed("detect", lambda: self.find_faces(image))
        face = choose_paying_face(faces, width, height, self.ambiguity_ratio)
        chip = timed("align", lambda: align_face(image, face.landmarks5))
        face_signals: FaceSignals | None = None
        if signals and self.analyzer is not None:
            analyzer = self.analyzer
            face_signals = timed("landmarks", lambda: analyzer.analyze(face_crop(image, face)))
        quality = timed("quality", lambda: assess_quality(face, chip, face_signals, self.policy))
        embedding: Embedding | None = None
        if embed and self.embedder is not None:
            embedder = self.embedder
            vector = timed("embed", lambda: embedder.embed_face(image, face.landmarks5))
            embedding = Embedding(vector=vector, model_id=embedder.model_id)
        return FrameAnalysis(face=face, faces_found=len(faces), quality=quality,
                             signals=face_signals, embedding=embedding, chip=chip,
                             timings_ms=timings)


def require_quality(analysis: FrameAnalysis) -> FrameAnalysis:
    """``analysis`` unchanged when it passes the gate, else ``PoorQuality`` with the reasons."""
    from smilepay.vision.errors import PoorQuality

    if not analysis.quality.passed:
        raise PoorQuality("expected a face that passes the quality gate, got: "
                          + "; ".join(analysis.quality.reasons), analysis.quality.reasons)
    return analysis


@lru_cache(maxsize=4)
def shared_pipeline(strategy: str | None = None) -> FacePipeline:
    """One ``FacePipeline`` per strategy for the whole process (models load once)."""
    return FacePipeline.load(strategy)
