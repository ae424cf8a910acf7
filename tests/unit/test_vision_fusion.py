"""Fusion folded into one vector: inner products are the weighted mean of member cosines."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.fusion import build_template, fuse_vectors, unit


def random_unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    return unit(rng.normal(size=dim))


def test_fused_inner_product_is_the_weighted_mean_of_cosines():
    rng = np.random.default_rng(1)
    a1, b1 = random_unit(rng, 512), random_unit(rng, 512)
    a2, b2 = random_unit(rng, 192), random_unit(rng, 192)
    weights = [10.0, 7.0]
    fa, fb = fuse_vectors([a1, a2], weights), fuse_vectors([b1, b2], weights)
    expected = (10 * float(a1 @ b1) + 7 * float(a2 @ b2)) / 17
    assert float(fa @ fb) == pytest.approx(expected, abs=1e-6)
    assert float(np.linalg.norm(fa)) == pytest.approx(1.0, abs=1e-6)


def test_weights_must_be_positive_and_one_per_vector():
    v = np.ones(4, np.float32)
    with pytest.raises(InvalidInput):
        fuse_vectors([v, v], [1.0])
    with pytest.raises(InvalidInput):
        fuse_vectors([v, v], [1.0, 0.0])


def test_a_template_of_noisy_views_is_closer_to_the_identity_than_one_view():
    rng = np.random.default_rng(5)
    identity = random_unit(rng, 128)
    views = [unit(identity + rng.normal(0, 0.12, 128)) for _ in range(6)]
    template = build_template(views)
    assert float(template @ identity) > max(float(v @ identity) for v in views)


def test_quality_weights_favour_the_good_view():
    good, bad = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    template = build_template([good, bad], weights=[0.9, 0.1])
    assert template[0] > template[1]
    with pytest.raises(InvalidInput):
        build_template([])
