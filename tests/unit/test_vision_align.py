"""Alignment: the similarity transform lands the five points on the ArcFace template."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.align import (
    ARCFACE_TEMPLATE_112,
    align_face,
    alignment_matrix,
    estimate_similarity,
)


def transform(points: np.ndarray, scale: float, angle_deg: float, shift: tuple[float, float]):
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (scale * points @ rot.T + np.array(shift)).astype(np.float32)


def test_a_rotated_scaled_shifted_face_maps_back_onto_the_template():
    landmarks = transform(ARCFACE_TEMPLATE_112, 2.7, 23.0, (310.0, 145.0))
    matrix = alignment_matrix(landmarks)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - ARCFACE_TEMPLATE_112).max() < 1e-3


def test_the_recovered_transform_has_the_inverse_scale_and_angle():
    landmarks = transform(ARCFACE_TEMPLATE_112, 0.5, -40.0, (3.0, 9.0))
    matrix = estimate_similarity(landmarks, ARCFACE_TEMPLATE_112)
    assert math.hypot(matrix[0, 0], matrix[1, 0]) == pytest.approx(2.0, rel=1e-6)
    assert math.degrees(math.atan2(matrix[1, 0], matrix[0, 0])) == pytest.approx(40.0, abs=1e-4)


def test_a_mirrored_point_set_is_fitted_without_reflection():
    mirrored = ARCFACE_TEMPLATE_112.copy()
    mirrored[:, 0] = 112 - mirrored[:, 0]
    matrix = estimate_similarity(mirrored, ARCFACE_TEMPLATE_112)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_align_face_moves_a_marked_eye_pixel_to_the_template_eye():
    image = np.zeros((400, 600, 3), np.uint8)
    landmarks = transform(ARCFACE_TEMPLATE_112, 2.0, 10.0, (200.0, 80.0))
    x, y = (round(float(v)) for v in landmarks[0])
    image[y - 3: y + 4, x - 3: x + 4] = 255
    chip = align_face(image, landmarks)
    assert chip.shape == (112, 112, 3)
    ys, xs = np.nonzero(chip[:, :, 0] > 128)
    assert abs(xs.mean() - ARCFACE_TEMPLATE_112[0, 0]) < 1.0
    assert abs(ys.mean() - ARCFACE_TEMPLATE_112[0, 1]) < 1.0


def test_align_face_scales_the_template_for_larger_chips():
    landmarks = transform(ARCFACE_TEMPLATE_112, 1.0, 0.0, (0.0, 0.0))
    matrix = alignment_matrix(landmarks, size=224)
    assert matrix[0, 0] == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize("bad", [np.zeros((4, 2)), np.zeros((5, 3))])
def test_wrong_landmark_shapes_are_refused(bad):
    with pytest.raises(InvalidInput, match="expected 5 x 2 landmarks"):
        alignment_matrix(bad.astype(np.float32))


def test_coincident_points_are_refused():
    with pytest.raises(InvalidInput, match="distinct"):
        estimate_similarity(np.ones((5, 2), np.float32), ARCFACE_TEMPLATE_112)
