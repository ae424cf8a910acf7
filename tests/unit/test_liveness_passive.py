"""Passive cues react to what they claim to measure (on constructed images)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from smilepay.vision.liveness.passive import CUES, measure_cues, temporal_flicker


def smooth_face(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (128, 128, 3))
    img = cv2.GaussianBlur(noise, (0, 0), 6)
    img = (img - img.min()) / (img.max() - img.min())
    skin = np.array([120, 150, 200]) * (0.6 + 0.4 * img)
    return np.clip(skin, 0, 255).astype(np.uint8)


def test_a_screen_grid_raises_the_high_frequency_peak() -> None:
    face = smooth_face()
    grid = face.copy()
    grid[::3, :] = (grid[::3, :] * 0.7).astype(np.uint8)  # pixel rows of a screen
    assert measure_cues(grid)["moire_peak"] > measure_cues(face)["moire_peak"] + 1
    assert measure_cues(grid)["moire_hf"] > measure_cues(face)["moire_hf"]


def test_glare_raises_the_specular_fraction() -> None:
    face = smooth_face()
    glare = face.copy()
    cv2.circle(glare, (60, 50), 18, (255, 255, 255), -1)
    assert measure_cues(glare)["specular_fraction"] > 0.05 > measure_cues(face)["specular_fraction"]


def test_a_frame_border_adds_long_lines() -> None:
    face = smooth_face()
    framed = face.copy()
    cv2.rectangle(framed, (10, 10), (118, 118), (20, 20, 20), 3)
    assert measure_cues(framed)["edge_lines"] >= 2
    assert measure_cues(face)["edge_lines"] == 0


def test_blur_lowers_sharpness_and_grey_lowers_saturation() -> None:
    face = smooth_face()
    face[40:90, 40:90] = np.random.default_rng(1).integers(0, 255, (50, 50, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(face, (0, 0), 3)
    assert measure_cues(blurred)["sharpness"] < measure_cues(face)["sharpness"]
    grey = cv2.cvtColor(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert measure_cues(grey)["saturation_mean"] < 0.02 < measure_cues(face)["saturation_mean"]


def test_every_cue_is_measured_and_bad_crops_are_refused() -> None:
    assert set(measure_cues(smooth_face())) == set(CUES)
    with pytest.raises(ValueError, match="BGR crop"):
        measure_cues(np.zeros((4, 4, 3), np.uint8))


def test_flicker_ignores_slow_drift_but_sees_alternation() -> None:
    drift = np.linspace(100, 120, 60)
    flicker = drift + np.where(np.arange(60) % 2 == 0, 3.0, -3.0)
    assert temporal_flicker(drift.tolist()) < 1e-6
    assert temporal_flicker(flicker.tolist()) > 0.05
    assert temporal_flicker([1.0, 2.0]) == 0.0
