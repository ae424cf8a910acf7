"""The hand-made cues (``vision.liveness.passive``) as a ``PassiveScorer``: one cue, signed."""

from __future__ import annotations

from smilepay.adapters.liveness.crops import square_crop
from smilepay.vision.liveness.passive import CUE_DIRECTION, measure_cues
from smilepay.vision.types import Face, Image

CROP_SCALE = 1.0


class CueScorer:
    """One cue, signed so that higher = more likely bona fide."""

    def __init__(self, cue: str) -> None:
        if cue not in CUE_DIRECTION:
            raise ValueError(f"expected a cue in {sorted(CUE_DIRECTION)}, got {cue!r}")
        self.name = f"cue:{cue}"
        self.cue = cue

    def score(self, image: Image, face: Face | None) -> float:
        crop = square_crop(image, face, CROP_SCALE, 128)
        return CUE_DIRECTION[self.cue] * measure_cues(crop)[self.cue]


class CropHeightScorer:
    """Not a liveness cue: the face's height in pixels, to show what crop sizes alone give away
    on a data set (``smilepay eval pad`` reports it as ``confound:crop_height``)."""

    name = "confound:crop_height"

    def score(self, image: Image, face: Face | None) -> float:
        return float(image.shape[0] if face is None else face.height)
