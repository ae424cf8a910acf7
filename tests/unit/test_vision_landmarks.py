"""Alignment points from the dense landmarks: order, and the fallback to the detector's."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.landmarks import (
    IRIS_A,
    IRIS_B,
    MOUTH_A,
    MOUTH_B,
    NOSE_TIP,
    choose_alignment_points,
    landmarks5_from_dense,
)

DETECTED = np.array([[40, 50], [72, 50], [56, 70], [42, 90], [70, 90]], np.float32)


def dense_with(points: dict[int, tuple[float, float]]) -> np.ndarray:
    dense = np.zeros((478, 2), np.float32)
    for index, xy in points.items():
        dense[index] = xy
    return dense


def test_points_come_out_in_the_detector_order_whichever_iris_is_which():
    dense = dense_with({IRIS_A: (73, 51), IRIS_B: (41, 49), NOSE_TIP: (57, 71),
                        MOUTH_A: (69, 91), MOUTH_B: (43, 89)})
    five = landmarks5_from_dense(dense, DETECTED)
    assert five.tolist() == [[41, 49], [73, 51], [57, 71], [43, 89], [69, 91]]


def test_without_a_reference_the_image_left_eye_comes_first():
    dense = dense_with({IRIS_A: (73, 51), IRIS_B: (41, 49), NOSE_TIP: (57, 71),
                        MOUTH_A: (69, 91), MOUTH_B: (43, 89)})
    assert landmarks5_from_dense(dense)[0].tolist() == [41, 49]


def test_a_short_landmark_array_is_refused():
    with pytest.raises(InvalidInput, match="478"):
        landmarks5_from_dense(np.zeros((68, 2), np.float32))


def test_refined_points_close_to_the_detection_are_used():
    refined = DETECTED + 2.0
    assert np.array_equal(choose_alignment_points(DETECTED, refined), refined)


def test_refined_points_on_another_face_are_ignored():
    elsewhere = DETECTED + 40.0  # more than a third of the eye distance away
    assert np.array_equal(choose_alignment_points(DETECTED, elsewhere), DETECTED)
    assert np.array_equal(choose_alignment_points(DETECTED, None), DETECTED)
