"""Smile scorers behind the ``SmileScorer`` port: MediaPipe blendshapes (default), FER
mini-Xception and Faceplugin fr_expression (alternatives; docs/accuracy.md compares them)."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from smilepay.adapters.models.mediapipe_analyzer import MediaPipeFaceAnalyzer
from smilepay.adapters.models.runtime import litert_interpreter, onnx_session
from smilepay.errors import InvalidInput
from smilepay.modelstore import model_path
from smilepay.ports.vision import SmileScorer
from smilepay.vision.pipeline import face_crop
from smilepay.vision.types import Face, Image


class MediaPipeSmileScorer:
    """Mean of ``mouthSmileLeft`` and ``mouthSmileRight`` on a crop around the face."""

    model_id = "mediapipe_blendshapes"

    def __init__(self, analyzer: MediaPipeFaceAnalyzer | None = None) -> None:
        self._analyzer = analyzer or MediaPipeFaceAnalyzer()

    def score_smile(self, image: Image, face: Face) -> float | None:
        signals = self._analyzer.analyze(face_crop(image, face))
        return None if signals is None else signals.smile

    def close(self) -> None:
        self._analyzer.close()


class FerSmileScorer:
    """FER mini-Xception (TFLite): probability of "happy" (index 3) on a 64x64 grey face."""

    model_id = "fer_emotion"
    HAPPY = 3

    def __init__(self) -> None:
        self._interp = litert_interpreter(model_path("fer_emotion"))
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]

    def score_smile(self, image: Image, face: Face) -> float | None:
        import cv2

        crop = face_crop(image, face, scale=1.0)
        if crop.size == 0:
            return None
        grey = cv2.cvtColor(cv2.resize(crop, (64, 64)), cv2.COLOR_BGR2GRAY).astype(np.float32)
        self._interp.set_tensor(self._in, ((grey / 255.0 - 0.5) * 2.0)[None, :, :, None])
        self._interp.invoke()
        return float(self._interp.get_tensor(self._out)[0][self.HAPPY])


class FrExpressionSmileScorer:
    """Faceplugin fr_expression (ONNX, 7 classes): softmax of its "happy" class on a face crop."""

    model_id = "fr_expression"

    def __init__(self, happy_index: int = 3, rgb: bool = True, crop_scale: float = 1.2) -> None:
        self._session = onnx_session(model_path("fr_expression"))
        self._input = self._session.get_inputs()[0].name
        self.happy_index, self.rgb, self.crop_scale = happy_index, rgb, crop_scale

    def probabilities(self, image: Image, face: Face) -> np.ndarray | None:
        import cv2

        crop = face_crop(image, face, scale=self.crop_scale)
        if crop.size == 0:
            return None
        chip = cv2.resize(crop, (224, 224)).astype(np.float32)
        if self.rgb:
            chip = chip[:, :, ::-1]
        mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
        std = np.array([0.229, 0.224, 0.225], np.float32) * 255
        tensor = np.ascontiguousarray(((chip - mean) / std).transpose(2, 0, 1)[None])
        return np.asarray(softmax(self._session.run(None, {self._input: tensor})[0][0]))

    def score_smile(self, image: Image, face: Face) -> float | None:
        probs = self.probabilities(image, face)
        return None if probs is None else float(probs[self.happy_index])


SMILE_SCORERS = ("mediapipe", "fer_emotion", "fr_expression")
DEFAULT_SMILE_SCORER = "mediapipe"


def load_smile_scorer(name: str | None = None) -> SmileScorer:
    """The named smile scorer (``SMILE_SCORERS``), MediaPipe blendshapes by default."""
    key = name or DEFAULT_SMILE_SCORER
    if key == "mediapipe":
        return MediaPipeSmileScorer()
    if key == "fer_emotion":
        return FerSmileScorer()
    if key == "fr_expression":
        return FrExpressionSmileScorer()
    raise InvalidInput(f"expected a smile scorer in {sorted(SMILE_SCORERS)}, got {key!r}")
