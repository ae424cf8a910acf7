"""The depth check: a face has relief, a photo or a screen (flat, tilted, bent) has none."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.vision.liveness.depth import measure_relief, relief_score_mm, validate_depth_map
from smilepay.vision.liveness.errors import InvalidDepthMap
from smilepay.vision.liveness.metrics import apcer_at, threshold_for_bpcer
from smilepay.vision.liveness.synthetic_depth import ATTACK_KINDS, KINDS, make_scene


def scores(kind: str, n: int, offset: int = 0) -> np.ndarray:
    out = []
    for seed in range(offset, offset + n):
        scene = make_scene(kind, seed)
        out.append(relief_score_mm(measure_relief(scene.depth_mm, scene.face)))
    return np.array(out)


def test_scenes_follow_the_depth_format() -> None:
    for kind in KINDS:
        scene = make_scene(kind, 1)
        assert scene.depth_mm.dtype == np.uint16 and scene.depth_mm.shape == (480, 640)
        assert scene.is_attack == (kind != "face")
        x0, y0, x1, y1 = scene.face.box_xyxy
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480
        assert np.array_equal(validate_depth_map(scene.depth_mm, (480, 640)), scene.depth_mm)


def test_a_face_stands_out_and_a_flat_photo_does_not() -> None:
    face = make_scene("face", 3)
    relief = measure_relief(face.depth_mm, face.face)
    assert relief.nose_protrusion_mm > 8
    flat = make_scene("flat", 3)
    assert abs(measure_relief(flat.depth_mm, flat.face).nose_protrusion_mm) < 3


def test_depth_check_meets_its_goal_on_fresh_synthetic_scenes() -> None:
    # Goal: APCER <= 1% at BPCER <= 5%; seeds differ from those `eval depth` calibrates on.
    bona_fide = scores("face", 40, offset=50_000)
    threshold = threshold_for_bpcer(bona_fide, 0.05)
    for kind in ATTACK_KINDS:
        assert apcer_at(scores(kind, 20, offset=50_000), threshold) <= 0.01, kind


def test_missing_depth_is_reported_not_guessed() -> None:
    scene = make_scene("face", 4)
    blank = np.zeros_like(scene.depth_mm)
    relief = measure_relief(blank, scene.face)
    assert relief.reason == "depth_missing"
    assert relief_score_mm(relief) == 0.0


def test_malformed_depth_maps_are_refused() -> None:
    with pytest.raises(InvalidDepthMap, match="uint16"):
        validate_depth_map(np.zeros((480, 640), np.float32), (480, 640))
    with pytest.raises(InvalidDepthMap, match="aligned"):
        validate_depth_map(np.zeros((240, 320), np.uint16), (480, 640))
