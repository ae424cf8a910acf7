"""The quality gate: face size, sharpness, exposure and pose, with a reason for each failure."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2

from smilepay.vision.types import Face, FaceSignals, Image, QualityReport


@dataclass(frozen=True)
class QualityPolicy:
    """Thresholds of the gate. Enrolment may ask for more than payment (``min_face_px``)."""

    min_face_px: float = 80.0
    min_sharpness: float = 25.0
    min_brightness: float = 50.0
    max_brightness: float = 210.0
    min_contrast: float = 18.0
    max_yaw_deg: float = 30.0
    max_pitch_deg: float = 25.0


def measure_chip(chip: Image) -> tuple[float, float, float]:
    """(sharpness, brightness, contrast) of an aligned chip, on its central face region."""
    grey = cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    centre = grey[h // 6: h - h // 12, w // 6: w - w // 6]
    sharpness = float(cv2.Laplacian(centre, cv2.CV_64F).var())
    return sharpness, float(centre.mean()), float(centre.std())


def assess_quality(
    face: Face, chip: Image, signals: FaceSignals | None = None,
    policy: QualityPolicy | None = None,
) -> QualityReport:
    """Measure ``face`` (and its aligned ``chip``) and list every reason it fails ``policy``.

    Pose comes from the landmarker's ``signals`` when given, else a rough estimate from the
    5 landmarks (yaw only).
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
    if sharpness < policy.min_sharpness:
        reasons.append(f"too blurred: sharpness {sharpness:.0f} < {policy.min_sharpness:.0f}")
    if brightness < policy.min_brightness:
        reasons.append(f"too dark: brightness {brightness:.0f} < {policy.min_brightness:.0f}")
    if brightness > policy.max_brightness:
        reasons.append(f"too bright: brightness {brightness:.0f} > {policy.max_brightness:.0f}")
    if contrast < policy.min_contrast:
        reasons.append(f"too flat: contrast {contrast:.0f} < {policy.min_contrast:.0f}")
    if abs(yaw) > policy.max_yaw_deg:
        reasons.append(f"head turned: yaw {yaw:.0f} deg, limit {policy.max_yaw_deg:.0f}")
    if abs(pitch) > policy.max_pitch_deg:
        reasons.append(f"head tilted: pitch {pitch:.0f} deg, limit {policy.max_pitch_deg:.0f}")
    return QualityReport(face_px=face_px, eye_distance_px=eye_distance, sharpness=sharpness,
                         brightness=brightness, contrast=contrast, yaw_deg=yaw, pitch_deg=pitch,
                         reasons=tuple(reasons))
