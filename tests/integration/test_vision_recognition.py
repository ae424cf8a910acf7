"""Recognition with the default strategy on real photos, at the shipped calibrated threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smilepay.config import get_settings
from smilepay.evaluation.pairs import Pair, identity_of, read_pairs
from smilepay.modelstore import load_lock
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def strategy():
    from smilepay.adapters.models.strategies import configured_strategy, strategy_spec

    names = {"yunet", "face_landmarker"} | {
        m.split("+")[0] for m, _ in strategy_spec(configured_strategy()).members}
    for name in sorted(names):
        require((get_settings().model_dir / load_lock()[name].filename).is_file(),
                f"model {name} (run `make models`)")
    return configured_strategy()


@pytest.fixture(scope="module")
def subset(data_dir: Path, strategy):
    """Every 6th genuine pair of the protocol, and all cross-identity pairs of their images."""
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator

    protocol = data_dir / "protocols" / "verification_pairs.csv"
    require(protocol.is_file(), f"protocol {protocol}")
    genuine = [p for p in read_pairs(protocol) if p.same][::6]
    images = sorted({p.path_a for p in genuine} | {p.path_b for p in genuine})
    impostors = [Pair(a, b, False) for i, a in enumerate(images) for b in images[i + 1:]
                 if identity_of(a) != identity_of(b)]
    evaluator = StrategyEvaluator(data_dir, YuNetDetector(), EmbeddingCache())
    vectors = evaluator.strategy_vectors(strategy, images)
    evaluator.close()
    return genuine, impostors, vectors


def scores_of(pairs: list[Pair], vectors) -> np.ndarray:
    return np.array([float(vectors[p.path_a] @ vectors[p.path_b])
                     if vectors[p.path_a] is not None and vectors[p.path_b] is not None
                     else -1.0 for p in pairs])


def test_the_same_person_matches_across_photos(subset, strategy):
    from smilepay.vision.calibration import threshold_at_far

    genuine, _, vectors = subset
    threshold = threshold_at_far(strategy, 1e-3)
    accepted = scores_of(genuine, vectors) >= threshold
    assert len(genuine) >= 45
    assert accepted.mean() >= 0.85, f"{accepted.sum()} of {len(genuine)} at {threshold:.3f}"


def test_different_people_do_not_match_at_the_calibrated_threshold(subset, strategy):
    from smilepay.vision.calibration import threshold_at_far

    _, impostors, vectors = subset
    threshold = threshold_at_far(strategy, 1e-3)
    false_matches = int((scores_of(impostors, vectors) >= threshold).sum())
    assert len(impostors) >= 2000
    assert false_matches <= max(3, 3 * len(impostors) // 1000), false_matches


def test_the_mean_genuine_score_is_far_above_the_mean_impostor_score(subset):
    genuine, impostors, vectors = subset
    gap = scores_of(genuine, vectors).mean() - scores_of(impostors, vectors).mean()
    assert gap > 0.3
