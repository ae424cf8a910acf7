"""The composition of the face engine: which concrete models a ``FacePipeline`` is handed.

``vision/`` knows only the ports (``smilepay.ports.vision``); this module chooses the adapters
(YuNet, the MediaPipe landmarker, the configured recognition strategy) and injects them.
"""

from __future__ import annotations

from functools import lru_cache

from smilepay.adapters.models.mediapipe_analyzer import MediaPipeFaceAnalyzer
from smilepay.adapters.models.strategies import load_strategy, strategy_spec
from smilepay.adapters.models.yunet import YuNetDetector
from smilepay.ports.vision import FaceDetector
from smilepay.vision.detect import DEFAULT_MAX_SIDE_PX
from smilepay.vision.pipeline import FacePipeline
from smilepay.vision.quality import QualityPolicy


@lru_cache(maxsize=1)
def default_detector() -> FaceDetector:
    """The YuNet detector, loaded on first use and shared."""
    return YuNetDetector()


def load_pipeline(strategy: str | None = None, *, with_analyzer: bool = True,
                  policy: QualityPolicy | None = None,
                  detect_max_side_px: int = DEFAULT_MAX_SIDE_PX) -> FacePipeline:
    """The real models: YuNet, MediaPipe FaceLandmarker and the named recognition strategy
    (the configured one when ``None``).

    The landmarker is loaded without ``with_analyzer`` too when the strategy aligns on its
    points, so enrolment and payment always align alike."""
    refine = strategy_spec(strategy).landmarks == "mediapipe"
    analyzer = MediaPipeFaceAnalyzer() if with_analyzer or refine else None
    return FacePipeline(YuNetDetector(), analyzer, load_strategy(strategy), policy,
                        detect_max_side_px, reader=analyzer, refine_alignment=refine)
