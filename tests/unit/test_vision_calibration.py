"""Calibration on numbers: thresholds at a target false-match rate, TAR, EER, AUC, tables."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.evaluation.metrics import auc, calibration_rows, eer, operating_point, roc_curve
from smilepay.vision.calibration import parse_table


def test_the_threshold_lets_through_at_most_far_times_n_impostors():
    impostor = np.arange(1000) / 1000.0  # 0.000 .. 0.999
    genuine = np.array([0.9975, 0.9985, 0.5, 0.999, 0.9995])
    point = operating_point(genuine, impostor, far=1e-2)
    assert point.impostors_above == 10
    assert 0.989 < point.threshold <= 0.990
    point = operating_point(genuine, impostor, far=1e-3)
    assert point.impostors_above == 1
    assert point.tar == pytest.approx(3 / 5)
    point = operating_point(genuine, impostor, far=1e-4)
    assert point.impostors_above == 0
    assert not point.supported
    assert point.tar == pytest.approx(1 / 5)


def test_a_missing_face_is_a_false_reject_never_a_false_match():
    genuine = np.array([0.9, -np.inf])
    impostor = np.array([0.1, 0.2, -np.inf, 0.3])
    point = operating_point(genuine, impostor, far=0.0)
    assert point.tar == 0.5
    assert point.impostors_above == 0


def test_separable_scores_give_auc_one_and_eer_zero():
    genuine, impostor = np.array([0.8, 0.9]), np.array([0.1, 0.2, 0.3])
    assert auc(genuine, impostor) == 1.0
    assert eer(genuine, impostor) == pytest.approx(0.0)


def test_identical_distributions_give_auc_one_half():
    scores = np.linspace(0, 1, 101)
    assert auc(scores, scores) == pytest.approx(0.5)
    assert eer(scores, scores) == pytest.approx(0.5, abs=0.02)


def test_roc_is_monotone_and_ends_at_one_one():
    rng = np.random.default_rng(7)
    far, tar, thresholds = roc_curve(rng.normal(1, 1, 300), rng.normal(0, 1, 3000))
    assert np.all(np.diff(far) >= 0) and np.all(np.diff(tar) >= 0)
    assert far[-1] == 1.0 and tar[-1] == 1.0
    assert np.all(np.diff(thresholds) < 0)


def test_a_calibration_table_picks_the_largest_measured_rate_not_above_the_target():
    rng = np.random.default_rng(3)
    rows = calibration_rows(rng.normal(2, 1, 500), rng.normal(0, 1, 20000), (1e-2, 1e-3, 1e-4))
    table = parse_table({"model_id": "m", "rows": [
        {"far": r.far_target, "threshold": r.threshold, "tar": r.tar,
         "impostor_pairs": r.impostor_pairs, "impostors_above": r.impostors_above}
        for r in rows]})
    assert rows[0].threshold < rows[1].threshold < rows[2].threshold
    assert table.threshold_at_far(1e-3) == rows[1].threshold
    assert table.threshold_at_far(5e-3) == rows[1].threshold  # conservative: the stricter row
    with pytest.raises(InvalidInput, match="expected a false-match rate"):
        table.threshold_at_far(1e-6)
