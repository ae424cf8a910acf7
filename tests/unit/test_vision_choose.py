"""Which face pays: largest, most central, frontal; a close second face is ambiguous."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.vision.choose import choose_paying_face, frontalness, payer_score
from smilepay.vision.errors import AmbiguousFaces, NoFaceFound
from smilepay.vision.types import Face

W, H = 640, 480


def face_at(cx: float, cy: float, size: float, nose_shift: float = 0.0) -> Face:
    eye_dx = size * 0.2
    landmarks = np.array([[cx - eye_dx, cy - size * 0.1], [cx + eye_dx, cy - size * 0.1],
                          [cx + nose_shift * size, cy + size * 0.05],
                          [cx - eye_dx * 0.8, cy + size * 0.25],
                          [cx + eye_dx * 0.8, cy + size * 0.25]], dtype=np.float32)
    half = size / 2
    return Face((cx - half, cy - half, cx + half, cy + half), landmarks, 0.9)


def test_a_single_face_pays():
    face = face_at(100, 100, 60)
    assert choose_paying_face([face], W, H) is face


def test_no_face_is_reported_as_such():
    with pytest.raises(NoFaceFound):
        choose_paying_face([], W, H)


def test_the_customer_close_to_the_camera_pays_over_a_passer_by():
    customer, passer_by = face_at(320, 240, 200), face_at(560, 80, 70)
    assert choose_paying_face([passer_by, customer], W, H) is customer


def test_two_faces_of_the_same_size_side_by_side_are_ambiguous():
    with pytest.raises(AmbiguousFaces) as caught:
        choose_paying_face([face_at(250, 240, 150), face_at(390, 240, 150)], W, H)
    assert caught.value.details["faces"] == 2


def test_a_central_face_beats_an_equal_one_in_the_corner_only_when_the_gap_is_clear():
    central, corner = face_at(320, 240, 150), face_at(80, 60, 150)
    assert payer_score(central, W, H) > payer_score(corner, W, H)
    assert choose_paying_face([corner, central], W, H, ambiguity_ratio=0.9) is central


def test_a_turned_head_scores_lower_than_a_frontal_one():
    assert frontalness(face_at(320, 240, 150, nose_shift=0.18)) < frontalness(
        face_at(320, 240, 150))
    frontal, turned = face_at(300, 240, 150), face_at(340, 240, 150, nose_shift=0.2)
    assert choose_paying_face([turned, frontal], W, H, ambiguity_ratio=0.9) is frontal
