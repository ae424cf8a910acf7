"""Faceplugin ``fr_liveness`` (ONNX): one weak passive signal (MODELS.md).

Input: the face box enlarged 2.7x around its centre, 128 x 128 RGB, raw 0-255, NCHW.
Output: 3 logits; softmax index 0 = live. Uncalibrated across sources (AUC 0.3-0.9).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scipy.special import softmax

from smilepay.adapters.liveness.crops import square_crop
from smilepay.adapters.models.runtime import onnx_session
from smilepay.modelstore import model_path
from smilepay.vision.types import Face, Image

CROP_SCALE = 2.7
INPUT_PX = 128


class FrLivenessScorer:
    """P(live) from ``fr_liveness``; higher = more likely bona fide."""

    name = "fr_liveness"

    def __init__(self, session: Any | None = None) -> None:
        self.session = session or onnx_session(model_path("fr_liveness"))
        self.input_name = self.session.get_inputs()[0].name

    def score(self, image: Image, face: Face | None) -> float:
        chip = square_crop(image, face, CROP_SCALE, INPUT_PX)
        rgb = cv2.cvtColor(chip, cv2.COLOR_BGR2RGB).astype(np.float32)
        logits = self.session.run(None, {self.input_name: rgb.transpose(2, 0, 1)[None]})[0][0]
        return float(softmax(logits)[0])
