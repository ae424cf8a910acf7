"""Render a photo as an identity document's portrait, as a phone or scanner would capture it.

Seeded and deterministic: the same photo, landmarks and seed give the same pixels. Steps:
1. an upright ICAO-style head-and-shoulders crop, chip size 102 x 126 px (about a 26 x 32 mm
   portrait at 100 dpi), area-downsampled from a 4x warp (no aliasing);
2. print: contrast squeezed into the printer's gamut, a colour cast, halftone-like noise;
3. a guilloche (security line pattern) and a rainbow hologram patch over the portrait;
4. the portrait placed on an ID-1 card page with guilloche background and text bars;
5. scan: a Gaussian blur, and the whole page saved as a low-quality JPEG.
``chip_image`` is the other source a customer may give: the portrait as the document's chip
stores it (step 1 and a JPEG, no print or scan).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.vision.align import ARCFACE_TEMPLATE_112, estimate_similarity
from smilepay.vision.types import Image

CHIP_W, CHIP_H = 102, 126
CARD_W, CARD_H = 340, 214  # ID-1 (85.6 x 54 mm) at 4 px/mm
CHIP_AT = (18, 52)  # top-left of the portrait on the card
_UPSAMPLE = 4
_EYE_SCALE = 0.68  # template scale: 24 px between the eyes on the chip
_EYE_AT = (51.0, 50.0)  # mid-eyes on the chip
_PAPER_BGR = (214, 228, 236)


@dataclass(frozen=True)
class RenderSettings:
    blur_sigma: tuple[float, float] = (0.7, 1.1)
    jpeg_quality: tuple[int, int] = (22, 35)
    cast: float = 0.10  # per-channel gain drawn in 1 +- cast
    noise_sd: float = 5.0
    guilloche_alpha: tuple[float, float] = (0.18, 0.28)
    hologram_alpha: tuple[float, float] = (0.10, 0.18)


def portrait_chip(image: Image, landmarks5: npt.NDArray[np.float32]) -> Image:
    """An upright 102 x 126 head-and-shoulders crop of the face with these five points."""
    template = (ARCFACE_TEMPLATE_112 * _EYE_SCALE).astype(np.float64)
    eyes = template[:2].mean(axis=0)
    template += np.array(_EYE_AT) - eyes
    matrix = estimate_similarity(landmarks5, (template * _UPSAMPLE).astype(np.float32))
    big = cv2.warpAffine(image, matrix, (CHIP_W * _UPSAMPLE, CHIP_H * _UPSAMPLE),
                         flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(232, 232, 228))
    return np.asarray(cv2.resize(big, (CHIP_W, CHIP_H), interpolation=cv2.INTER_AREA),
                      dtype=np.uint8)


def _guilloche(height: int, width: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """A mask (0..1) of thin interleaved sine curves, like the security print of a card."""
    mask = np.zeros((height, width), np.uint8)
    xs = np.arange(width, dtype=np.float64)
    periods = rng.uniform(18.0, 40.0, size=2)
    phase = rng.uniform(0, 2 * np.pi)
    for k in range(0, height + 20, 7):
        for period, amp in zip(periods, (5.0, 3.0), strict=True):
            ys = k + amp * np.sin(2 * np.pi * xs / period + phase + k * 0.3)
            points = np.stack([xs, ys], axis=1).astype(np.int32)
            cv2.polylines(mask, [points], False, 255, 1, cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0


def _hologram(height: int, width: int, rng: np.random.Generator) -> Image:
    """A rainbow ring pattern (colour varies with the radius), as an iridescent foil shows."""
    cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
    yy, xx = np.mgrid[0:height, 0:width]
    radius = np.hypot(yy - cy, xx - cx)
    hue = ((radius / rng.uniform(10.0, 16.0)) * 30) % 180
    hsv = np.stack([hue, np.full_like(hue, 200), np.full_like(hue, 255)], axis=2)
    return np.asarray(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR), dtype=np.uint8)


def _blend(base: npt.NDArray[np.float32], colour: npt.NDArray[np.float32],
           alpha: npt.NDArray[np.float32] | float) -> npt.NDArray[np.float32]:
    a = alpha[..., None] if isinstance(alpha, np.ndarray) else alpha
    return base * (1 - a) + colour * a


def print_portrait(chip: Image, rng: np.random.Generator, settings: RenderSettings) -> Image:
    """The chip as printed on the card: gamut, cast, noise, guilloche and hologram overlays."""
    out = chip.astype(np.float32) * 0.80 + 28.0  # ink and paper do not reach 0 or 255
    gains = rng.uniform(1 - settings.cast, 1 + settings.cast, size=3).astype(np.float32)
    out *= gains
    out += rng.normal(0, settings.noise_sd, size=out.shape).astype(np.float32)
    lines = _guilloche(CHIP_H, CHIP_W, rng) * rng.uniform(*settings.guilloche_alpha)
    ink = np.array(rng.uniform(90, 200, size=3), np.float32)
    out = _blend(out, np.broadcast_to(ink, out.shape).astype(np.float32), lines)
    foil = _hologram(CHIP_H, CHIP_W, rng).astype(np.float32)
    out = _blend(out, foil, float(rng.uniform(*settings.hologram_alpha)))
    return np.clip(out, 0, 255).astype(np.uint8)


def card_page(portrait: Image, rng: np.random.Generator) -> Image:
    """The printed portrait on a card page with guilloche background and text bars."""
    card = np.empty((CARD_H, CARD_W, 3), np.float32)
    card[:] = np.array(_PAPER_BGR, np.float32) * rng.uniform(0.92, 1.04, size=3)
    lines = _guilloche(CARD_H, CARD_W, rng) * 0.35
    card = _blend(card, np.full_like(card, 150.0), lines)
    for row in range(6):
        y = 60 + row * 22
        length = int(rng.uniform(80, 190))
        cv2.rectangle(card, (140, y), (140 + length, y + 7), (60, 55, 50), -1)
    x, y = CHIP_AT
    card[y:y + CHIP_H, x:x + CHIP_W] = portrait.astype(np.float32)
    return np.clip(card, 0, 255).astype(np.uint8)


def scan(page: Image, rng: np.random.Generator, settings: RenderSettings) -> Image:
    """Scanner or phone capture of the page: blur, then a low-quality JPEG round trip."""
    blurred = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(*settings.blur_sigma)))
    quality = int(rng.integers(settings.jpeg_quality[0], settings.jpeg_quality[1] + 1))
    ok, encoded = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("expected OpenCV to encode a JPEG, got a failure")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return np.asarray(decoded, dtype=np.uint8)


def render_document(image: Image, landmarks5: npt.NDArray[np.float32], seed: int,
                    settings: RenderSettings | None = None) -> Image:
    """The document page (BGR, 340 x 214) whose portrait is the face at ``landmarks5``."""
    settings = settings or RenderSettings()
    rng = np.random.default_rng(seed)
    chip = portrait_chip(image, landmarks5)
    return scan(card_page(print_portrait(chip, rng, settings), rng), rng, settings)


def chip_image(image: Image, landmarks5: npt.NDArray[np.float32], seed: int,
               quality: tuple[int, int] = (40, 60)) -> Image:
    """The portrait as a document chip stores it (read over NFC): 102 x 126, JPEG-compressed,
    never printed or scanned."""
    rng = np.random.default_rng(seed)
    chip = portrait_chip(image, landmarks5)
    ok, encoded = cv2.imencode(".jpg", chip, [cv2.IMWRITE_JPEG_QUALITY,
                                              int(rng.integers(quality[0], quality[1] + 1))])
    if not ok:
        raise RuntimeError("expected OpenCV to encode a JPEG, got a failure")
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)


def document_seed(name: str, base_seed: int = 0) -> int:
    """A stable per-image seed (not Python's salted ``hash``)."""
    value = base_seed
    for ch in name:
        value = (value * 131 + ord(ch)) % (2**31 - 1)
    return value
