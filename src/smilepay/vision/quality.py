"""The quality gate: face size, sharpness, exposure and pose, with a reason for each failure."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from smilepay.vision.types import Face, FaceSignals, Image, QualityReport


@dataclass(frozen=True)
class QualityPolicy:
    """Thresholds of the gate. Enrolment may ask for more than payment (``min_face_px``).

    Exposure is judged on the face itself (the aligned chip's central region), by its median
    grey level, which a few background pixels at the chip's edge or a shiny forehead do not
    move. A backlit face at a webcam (window behind: the face's median 45-62 on the bona fide
    webcam clip, its mean as low as 45) keeps enough detail to be recognised and passes; it
    failed the old mean threshold of 50, and a face in soft light failed "too flat" (std 16-18
    against 18) and was told it was too dark. When a face is too dark and the scene around it
    is much brighter (``backlight_margin``), the reason says backlit: the customer should turn
    towards the light, not look for a brighter room."""

    min_face_px: float = 80.0
    min_sharpness: float = 25.0
    min_face_median: float = 35.0  # median grey of the face region, 0..255
    max_face_median: float = 215.0
    backlight_margin: float = 40.0  # scene mean above the face's median: light behind the face
    min_contrast: float = 10.0  # grey-level std on the face: below, no detail at all (fog, glare)
    max_yaw_deg: float = 30.0
    max_pitch_deg: float = 25.0


@dataclass(frozen=True)
class Exposure:
    """Grey levels of the face region: median and std."""

    median: float
    contrast: float


def scene_brightness(image: Image) -> float:
    """The mean grey level of the whole frame, on a 1/8-size copy (about 0.1 ms at 640x480)."""
    small = cv2.resize(image, (max(1, image.shape[1] // 8), max(1, image.shape[0] // 8)),
                       interpolation=cv2.INTER_AREA)
    return float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())


def face_region(chip: Image) -> Image:
    """The central face region of an aligned chip, grey (forehead to chin, cheek to cheek)."""
    grey: Image = cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY).astype(np.uint8, copy=False)
    h, w = grey.shape
    return grey[h // 6: h - h // 12, w // 6: w - w // 6]


def measure_chip(chip: Image) -> tuple[float, float, float]:
    """(sharpness, brightness, contrast) of an aligned chip, on its central face region."""
    centre = face_region(chip)
    sharpness = float(cv2.Laplacian(centre, cv2.CV_64F).var())
    return sharpness, float(centre.mean()), float(centre.std())


def measure_exposure(chip: Image) -> Exposure:
    centre = face_region(chip)
    return Exposure(float(np.median(centre)), float(centre.std()))


def exposure_reasons(exposure: Exposure, scene_brightness: float | None,
                     policy: QualityPolicy) -> list[str]:
    """Why the face's exposure fails ``policy`` (empty when it passes)."""
    if exposure.median < policy.min_face_median:
        if (scene_brightness is not None
                and scene_brightness - exposure.median >= policy.backlight_margin):
            return [f"backlit: face {exposure.median:.0f} against scene {scene_brightness:.0f}"]
        return [f"too dark: face {exposure.median:.0f} < {policy.min_face_median:.0f}"]
    if exposure.median > policy.max_face_median:
        return [f"too bright: face {exposure.median:.0f} > {policy.max_face_median:.0f}"]
    if exposure.contrast < policy.min_contrast:
        return [f"too flat: contrast {exposure.contrast:.0f} < {policy.min_contrast:.0f}"]
    return []


def assess_quality(
    face: Face, chip: Image, signals: FaceSignals | None = None,
    policy: QualityPolicy | None = None, scene_brightness: float | None = None,
) -> QualityReport:
    """Measure ``face`` (and its aligned ``chip``) and list every reason it fails ``policy``.

    Pose comes from the landmarker's ``signals`` when given, else a rough estimate from the
    5 landmarks (yaw only). ``scene_brightness`` (the whole frame's mean grey) tells a backlit
    face from a dark room.
    """
    policy = policy or QualityPolicy()
    face_px = min(face.width, face.height)
    eye_distance = float(math.dist(face.landmarks5[0], face.landmarks5[1]))
    sharpness, brightness, contrast = measure_chip(chip)
    if signals is not None:
        yaw, pitch = signals.yaw_deg, signals.pitch_deg
    else:
        mid_eyes_x = float(face.landmarks5[0][0] + face.landmarks5[1][0]) / 2
        offset = (float(face.landmarks5[2][0]) - mid_eyes_x) / max(eye_distance, 1e-6)
        yaw, pitch = math.degrees(math.asin(max(-1.0, min(1.0, offset)))), 0.0
    reasons: list[str] = []
    if face_px < policy.min_face_px:
        reasons.append(f"face too small: {face_px:.0f} px < {policy.min_face_px:.0f} px")
    # exposure before sharpness: a dark face also measures as blurred (the Laplacian's
    # variance falls with contrast), and the kiosk shows the first reason
    reasons += exposure_reasons(measure_exposure(chip), scene_brightness, policy)
    if sharpness < policy.min_sharpness:
        reasons.append(f"too blurred: sharpness {sharpness:.0f} < {policy.min_sharpness:.0f}")
    if abs(yaw) > policy.max_yaw_deg:
        reasons.append(f"head turned: yaw {yaw:.0f} deg, limit {policy.max_yaw_deg:.0f}")
    if abs(pitch) > policy.max_pitch_deg:
        reasons.append(f"head tilted: pitch {pitch:.0f} deg, limit {policy.max_pitch_deg:.0f}")
    return QualityReport(face_px=face_px, eye_distance_px=eye_distance, sharpness=sharpness,
                         brightness=brightness, contrast=contrast, yaw_deg=yaw, pitch_deg=pitch,
                         reasons=tuple(reasons))
