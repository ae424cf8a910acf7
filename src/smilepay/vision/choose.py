"""Which face pays: the largest, most central, most frontal; a close runner-up is ambiguous."""

from __future__ import annotations

import math
from collections.abc import Sequence

from smilepay.vision.errors import AmbiguousFaces, NoFaceFound
from smilepay.vision.types import Face

AMBIGUITY_RATIO = 0.75  # a second face scoring at least this fraction of the best one is too close


def frontalness(face: Face) -> float:
    """1.0 when the nose sits midway between the eyes, falling towards 0 as the head turns."""
    right_eye, left_eye, nose = face.landmarks5[0], face.landmarks5[1], face.landmarks5[2]
    eye_distance = float(math.dist(right_eye, left_eye))
    if eye_distance <= 0:
        return 0.0
    offset = abs(float(nose[0]) - float(right_eye[0] + left_eye[0]) / 2) / eye_distance
    return max(0.0, 1.0 - offset)


def centrality(face: Face, frame_width: int, frame_height: int) -> float:
    """1.0 at the frame's centre, 0.0 at a corner."""
    cx = (face.box_xyxy[0] + face.box_xyxy[2]) / 2
    cy = (face.box_xyxy[1] + face.box_xyxy[3]) / 2
    half_diagonal = math.hypot(frame_width, frame_height) / 2
    return max(0.0, 1.0 - math.hypot(cx - frame_width / 2, cy - frame_height / 2) / half_diagonal)


def payer_score(face: Face, frame_width: int, frame_height: int) -> float:
    """Face size (pixels) weighted by how central and how frontal it is."""
    size = math.sqrt(max(face.width, 0.0) * max(face.height, 0.0))
    return size * (0.5 + 0.5 * centrality(face, frame_width, frame_height)) * (
        0.5 + 0.5 * frontalness(face))


def choose_paying_face(
    faces: Sequence[Face], frame_width: int, frame_height: int,
    ambiguity_ratio: float = AMBIGUITY_RATIO,
) -> Face:
    """The paying face, else ``NoFaceFound`` / ``AmbiguousFaces`` (ask one to step forward)."""
    if not faces:
        raise NoFaceFound("expected a face in the frame, got none")
    ranked = sorted(faces, key=lambda f: payer_score(f, frame_width, frame_height), reverse=True)
    if len(ranked) > 1:
        best = payer_score(ranked[0], frame_width, frame_height)
        second = payer_score(ranked[1], frame_width, frame_height)
        if best <= 0 or second >= ambiguity_ratio * best:
            raise AmbiguousFaces(
                f"expected one face clearly in front, got {len(ranked)} faces with the two best "
                f"scoring {best:.0f} and {second:.0f} (ratio {second / max(best, 1e-9):.2f} >= "
                f"{ambiguity_ratio})",
                faces=len(ranked), best_score=best, second_score=second,
            )
    return ranked[0]
