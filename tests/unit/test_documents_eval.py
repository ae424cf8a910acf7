"""The document rendering (deterministic, the right sizes) and the document-vs-live scoring."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.evaluation.document import at_threshold, calibration_table, cross_scores, summarise
from smilepay.evaluation.document_render import (
    CARD_H,
    CARD_W,
    CHIP_H,
    CHIP_W,
    chip_image,
    document_seed,
    portrait_chip,
    render_document,
)
from smilepay.vision.align import ARCFACE_TEMPLATE_112


def _photo() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, size=(400, 300, 3), dtype=np.uint8)
    landmarks = (ARCFACE_TEMPLATE_112 * 2.0 + np.array([40.0, 80.0])).astype(np.float32)
    return image, landmarks


def test_rendering_is_deterministic_and_seeded() -> None:
    image, landmarks = _photo()
    a = render_document(image, landmarks, 11)
    assert a.shape == (CARD_H, CARD_W, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_document(image, landmarks, 11))
    assert not np.array_equal(a, render_document(image, landmarks, 12))
    assert document_seed("celeba_wild/id1") == document_seed("celeba_wild/id1")
    assert document_seed("celeba_wild/id1") != document_seed("celeba_wild/id2")


def test_the_portrait_is_chip_sized_and_upright() -> None:
    image = np.zeros((400, 300, 3), np.uint8)
    landmarks = (ARCFACE_TEMPLATE_112 * 2.0 + np.array([40.0, 80.0])).astype(np.float32)
    for x, y in landmarks[:2]:  # two blue eye dots
        image[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = (255, 0, 0)
    chip = portrait_chip(image, landmarks)
    assert chip.shape == (CHIP_H, CHIP_W, 3)
    bright = np.argwhere(chip[:, :, 0].astype(int) - chip[:, :, 2] > 60)
    assert bright.size and abs(bright[:, 0].mean() - 50) < 3  # eyes on one row near y = 50
    stored = chip_image(image, landmarks, 5)
    assert stored.shape == (CHIP_H, CHIP_W, 3)


def test_cross_scores_pairs_every_probe_with_every_live_photo() -> None:
    e = np.eye(3, dtype=np.float32)
    probes = {"a": e[0], "b": e[1], "c": None}
    live = [("a", e[0]), ("a", e[0]), ("b", e[1]), ("b", None), ("c", e[2])]
    scores = cross_scores(probes, live)
    assert scores.genuine.size == 4 and scores.impostor.size == 8  # 4 live photos with a face
    assert scores.probes_missing == 1
    assert sorted(scores.genuine.tolist()) == [-np.inf, 1.0, 1.0, 1.0]
    assert np.all(scores.impostor[np.isfinite(scores.impostor)] == 0.0)


def test_summary_and_calibration_follow_the_impostor_count() -> None:
    rng = np.random.default_rng(0)
    dim = 16
    base = rng.normal(size=(30, dim))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    probes = {str(i): base[i].astype(np.float32) for i in range(30)}
    noisy = base + 0.3 * rng.normal(size=base.shape)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    live = [(str(i), noisy[i].astype(np.float32)) for i in range(30)]
    scores = cross_scores(probes, live)
    report = summarise(scores, (1e-2, 1e-3))
    assert report["n_impostor"] == 30 * 29
    assert report["supported_at_far"] == {"1e-2": True, "1e-3": False}
    table = calibration_table("m_document", scores, "test", (1e-2, 1e-3))
    assert [r["far"] for r in table["rows"]] == [1e-2]  # the unsupported rate is not shipped
    fixed = at_threshold(scores, report["threshold_at_far"]["1e-2"])
    assert fixed["far"] <= 1e-2 and fixed["tar"] == pytest.approx(report["tar_at_far"]["1e-2"])
