"""Square crops for the passive models: exact inside the frame, black outside it."""

from __future__ import annotations

import numpy as np

from smilepay.adapters.liveness.crops import square_crop
from smilepay.vision.types import Face


def face(x0: float, y0: float, x1: float, y1: float) -> Face:
    return Face((x0, y0, x1, y1), np.zeros((5, 2), np.float32), 0.9)


def test_crop_inside_the_frame_is_the_pixels_themselves() -> None:
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    chip = square_crop(image, face(100, 100, 200, 200), 1.0, 100)
    assert np.array_equal(chip, image[100:200, 100:200])


def test_crop_past_the_edge_is_padded_black() -> None:
    image = np.full((480, 640, 3), 200, np.uint8)
    chip = square_crop(image, face(600, 400, 700, 500), 1.0, 100)
    assert chip.shape == (100, 100, 3)
    assert chip[:40, :40].min() == 200 and chip[60:, 60:].max() == 0


def test_no_face_means_the_image_is_the_crop() -> None:
    image = np.full((50, 30, 3), 7, np.uint8)
    assert square_crop(image, None, 2.7, 128).shape == (128, 128, 3)
