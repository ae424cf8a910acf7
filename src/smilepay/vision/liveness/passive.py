"""Cheap passive cues of a presentation attack, from one face crop or a run of frames.

Each cue is a number with a direction stated in ``CUE_DIRECTION`` (+1: higher looks more
bona fide). None of them is trusted alone: docs/liveness.md gives their leave-one-source-out
results, which are weak.

- ``moire_hf``: share of spectral energy at high spatial frequency (screen pixel grids and
  print halftones add periodic high-frequency energy; recapture blur removes it).
- ``moire_peak``: how peaky the high band is (a periodic grid gives isolated peaks).
- ``saturation_mean`` / ``saturation_std``: colour of skin as a screen or a print renders it.
- ``specular_fraction``: near-white, unsaturated pixels (glare on a screen or glossy paper).
- ``edge_lines``: long straight edges (frame or phone borders) in the crop.
- ``sharpness``: log variance of the Laplacian; ``sharpness_centre_ratio``: centre vs rim.
- ``temporal_flicker`` (frames): high-frequency variation of mean brightness across frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.vision.types import Image

CROP_PX = 128
CUES = ("moire_hf", "moire_peak", "saturation_mean", "saturation_std", "specular_fraction",
        "edge_lines", "sharpness", "sharpness_centre_ratio")
CUE_DIRECTION = {"moire_hf": 1, "moire_peak": -1, "saturation_mean": 1, "saturation_std": 1,
                 "specular_fraction": -1, "edge_lines": -1, "sharpness": 1,
                 "sharpness_centre_ratio": -1, "temporal_flicker": -1}

_F = npt.NDArray[np.float64]


def _radial_index(size: int) -> _F:
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    return np.asarray(np.sqrt(fx**2 + fy**2), dtype=np.float64)


_RADIUS = _radial_index(CROP_PX)
_HIGH = (_RADIUS >= 0.25) & (_RADIUS <= 0.5)
_BAND = (_RADIUS >= 0.03) & (_RADIUS <= 0.5)
_WINDOW = np.outer(np.hanning(CROP_PX), np.hanning(CROP_PX))  # tapers the crop's edges


def measure_cues(crop: Image) -> dict[str, float]:
    """Every single-image cue of a face crop (BGR, any size; resized to 128 x 128)."""
    if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < 8:
        raise ValueError(f"expected an H x W x 3 BGR crop of at least 8 px, got {crop.shape}")
    img = cv2.resize(crop, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float64)
    power = np.abs(np.fft.fft2((grey - grey.mean()) * _WINDOW)) ** 2
    band_energy = float(power[_BAND].sum()) + 1e-9
    high = power[_HIGH]
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float64)
    sat, val = hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    edges = cv2.Canny(img, 60, 160)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40,
                            minLineLength=int(0.45 * CROP_PX), maxLineGap=3)
    lap = cv2.Laplacian(grey, cv2.CV_64F)
    c0, c1 = CROP_PX // 4, 3 * CROP_PX // 4
    centre = float(lap[c0:c1, c0:c1].var())
    rim = np.ones_like(lap, dtype=bool)
    rim[c0:c1, c0:c1] = False
    return {
        "moire_hf": float(high.sum()) / band_energy,
        "moire_peak": float(np.log((high.max() + 1e-9) / (np.median(high) + 1e-9))),
        "saturation_mean": float(sat.mean()),
        "saturation_std": float(sat.std()),
        "specular_fraction": float(np.mean((val > 0.94) & (sat < 0.16))),
        "edge_lines": float(0 if lines is None else len(lines)),
        "sharpness": float(np.log1p(lap.var())),
        "sharpness_centre_ratio": float(np.log1p(centre) - np.log1p(float(lap[rim].var()))),
    }


def temporal_flicker(mean_brightness: Sequence[float]) -> float:
    """Std of the frame-to-frame change of mean face brightness, after removing slow drift."""
    values = np.asarray(mean_brightness, dtype=np.float64)
    if values.size < 4:
        return 0.0
    second = np.diff(values, n=2)  # slow lighting changes and motion drift cancel out
    return float(second.std() / (values.mean() + 1e-9))
