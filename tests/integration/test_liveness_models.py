"""The passive model adapters on real PAD crops: they load, score, and fail where documented."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from smilepay import modelstore
from smilepay.errors import ModelMissing
from smilepay.vision.liveness.metrics import auc
from support import require

pytestmark = pytest.mark.integration


def installed(name: str) -> bool:
    try:
        modelstore.model_path(name)
    except ModelMissing:
        return False
    return True


def crops(data_dir: Path, source: str, label: str, limit: int = 40) -> list[np.ndarray]:
    folder = data_dir / source / label
    require(folder.is_dir(), f"PAD crops at {folder}")
    paths = sorted(folder.glob("*.png"))[:limit]
    return [cv2.imread(str(p)) for p in paths]


def source_auc(scorer, data_dir: Path, source: str) -> float:
    live = [scorer.score(im, None) for im in crops(data_dir, source, "live")]
    spoof = [scorer.score(im, None) for im in crops(data_dir, source, "spoof")]
    return auc(np.array(live), np.array(spoof))


def test_fr_liveness_separates_one_source_and_inverts_on_another(data_dir: Path) -> None:
    require(installed("fr_liveness"), "model fr_liveness (make models)")
    from smilepay.adapters.liveness.fr_liveness import FrLivenessScorer

    scorer = FrLivenessScorer()
    image = crops(data_dir, "pad_jtboing", "live", 1)[0]
    p = scorer.score(image, None)
    assert 0.0 <= p <= 1.0 and p == scorer.score(image, None)
    # The documented failure: good on one source, worse than chance on another.
    assert source_auc(scorer, data_dir, "pad_jtboing") > 0.75
    assert source_auc(scorer, data_dir, "pad_alexcamargo") < 0.5


def test_dtn_anti_spoof_reads_its_two_outputs(data_dir: Path) -> None:
    require(installed("face_antispoofing"), "model face_antispoofing (make models)")
    from smilepay.adapters.liveness.face_antispoofing import DtnAntiSpoofScorer

    scorer = DtnAntiSpoofScorer()
    spoof = [scorer.score(im, None) for im in crops(data_dir, "pad_apfol", "spoof", 10)]
    assert all(-8.5 <= s <= 0.0 for s in spoof)  # minus a sum of |score| over a one-hot leaf
    assert source_auc(scorer, data_dir, "pad_alexcamargo") > 0.9


def test_cue_scorer_on_a_real_crop(data_dir: Path) -> None:
    from smilepay.adapters.liveness.cues import CueScorer

    image = crops(data_dir, "pad_apfol", "live", 1)[0]
    assert CueScorer("sharpness").score(image, None) > 0
    with pytest.raises(ValueError):
        CueScorer("nonsense")
