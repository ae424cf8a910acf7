"""The pieces of ``eval document-methods``: per-domain score normalisation with identity-disjoint
(leave-one-out) cohorts, alignment jitter, the upscaled landmarks' coordinates, and the
product gate's reading of a pipeline's analysis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from smilepay.evaluation.document import cross_scores
from smilepay.evaluation.document_methods import (
    IDENTITY_MAX_POSE_DEG,
    Cohorts,
    jittered,
    normalised_scores,
    product_gate,
)
from smilepay.vision.errors import AmbiguousFaces, NoFaceFound
from smilepay.vision.types import QualityReport

DIM = 8


def unit(m: np.ndarray) -> np.ndarray:
    return np.asarray(m / np.linalg.norm(m, axis=-1, keepdims=True), dtype=np.float32)


def world(seed: int = 0) -> tuple[dict[str, Any], list[tuple[str, Any]], Cohorts]:
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(6)]
    centres = {i: unit(rng.normal(size=DIM)) for i in ids}
    probes = {i: unit(centres[i] + 0.2 * rng.normal(size=DIM)) for i in ids}
    probes["c0"] = unit(rng.normal(size=DIM))  # a cohort identity probing as an impostor
    live = [(i, unit(centres[i] + 0.2 * rng.normal(size=DIM))) for i in ids for _ in range(2)]
    cohort_ids = ["c0", "c1", "c2", "c3"]
    cohorts = Cohorts({c: unit(rng.normal(size=DIM)) for c in cohort_ids},
                      {c: probes["c0"] if c == "c0" else unit(rng.normal(size=DIM))
                       for c in cohort_ids})
    return probes, live, cohorts


def test_t_norm_is_the_probes_cosines_standardised_on_its_live_cohort() -> None:
    probes, live, cohorts = world()
    raw = cross_scores(probes, live)
    t = normalised_scores(probes, live, cohorts, "t")
    assert t.genuine.size == raw.genuine.size and t.impostor.size == raw.impostor.size
    # the first probe (p0): its scores against the live photos, standardised by its cohort
    cohort = np.array([float(np.dot(v, probes["p0"])) for v in cohorts.live.values()])
    expected = (raw.genuine[:2] - cohort.mean()) / cohort.std()
    assert t.genuine[:2] == pytest.approx(expected, rel=1e-6)


def test_a_cohort_member_probing_is_left_out_of_its_own_cohorts() -> None:
    probes, live, cohorts = world()
    z = normalised_scores(probes, live, cohorts, "z")
    # c0 (the last probe) meets every live photo as an impostor; each live photo's cohort then
    # holds the other three documents only
    live_m = np.stack([v for _, v in live]).astype(np.float64)
    others = np.stack([cohorts.documents[c] for c in ("c1", "c2", "c3")]).astype(np.float64)
    cohort_scores = live_m @ others.T
    raw = live_m @ probes["c0"].astype(np.float64)
    expected = (raw - cohort_scores.mean(axis=1)) / cohort_scores.std(axis=1)
    assert z.impostor[-len(live):] == pytest.approx(expected, rel=1e-6)
    t = normalised_scores(probes, live, cohorts, "t")
    s = normalised_scores(probes, live, cohorts, "s")
    assert s.impostor == pytest.approx((t.impostor + z.impostor) / 2)


def test_a_probe_without_a_face_stays_a_reject_after_normalising() -> None:
    probes, live, cohorts = world()
    probes["p1"] = None
    for mode in ("t", "z", "s"):
        scores = normalised_scores(probes, live, cohorts, mode)
        assert scores.probes_missing == 1
        assert np.isneginf(scores.genuine).sum() == 2  # p1's two live photos


def test_jitter_keeps_the_points_and_adds_shifted_and_scaled_copies() -> None:
    points = np.array([[40, 50], [70, 50], [55, 65], [44, 80], [66, 80]], np.float32)
    copies = jittered(points)
    assert len(copies) == 7
    assert np.array_equal(copies[0], points)
    assert np.allclose(copies[1] - points, [1.0, 0.0])
    assert np.allclose(copies[4] - points, [0.0, -1.0])
    eye = np.linalg.norm(points[0] - points[1])
    assert np.linalg.norm(copies[5][0] - copies[5][1]) == pytest.approx(0.98 * eye)
    assert copies[6].mean(axis=0) == pytest.approx(points.mean(axis=0))


class _Analysis:
    def __init__(self, reasons: tuple[str, ...], yaw: float, pitch: float = 0.0) -> None:
        self.quality = QualityReport(face_px=120, eye_distance_px=40, sharpness=80,
                                     brightness=120, contrast=40, yaw_deg=yaw,
                                     pitch_deg=pitch, reasons=reasons)


def test_the_gate_keeps_what_the_selfie_step_keeps() -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    assert product_gate(lambda _: _Analysis((), 5.0), image).passed  # type: ignore[arg-type, return-value]
    turned = product_gate(lambda _: _Analysis((), IDENTITY_MAX_POSE_DEG + 1), image)  # type: ignore[arg-type, return-value]
    assert not turned.passed and turned.reason == "not frontal for identity"
    small = product_gate(lambda _: _Analysis(("face too small: 60 px < 80 px",), 0.0), image)  # type: ignore[arg-type, return-value]
    assert small.reason == "face too small"

    def none(_: object) -> object:
        raise NoFaceFound("expected a face, got none")

    def two(_: object) -> object:
        raise AmbiguousFaces("expected one face, got two")

    assert product_gate(none, image).reason == "no_face"  # type: ignore[arg-type]
    assert product_gate(two, image).reason == "two_faces"  # type: ignore[arg-type]
