"""ISO/IEC 30107-3 measures, checked on cases worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.metrics import (
    apcer_at,
    auc,
    bpcer_at,
    det_curve,
    pad_report,
    threshold_for_apcer,
    threshold_for_bpcer,
)


def test_apcer_counts_accepted_attacks_and_bpcer_rejected_bona_fide() -> None:
    attack = np.array([0.1, 0.2, 0.6, 0.9])
    bona = np.array([0.3, 0.7, 0.8, 0.95])
    assert apcer_at(attack, 0.5) == 0.5
    assert bpcer_at(bona, 0.5) == 0.25


def test_thresholds_hold_their_targets() -> None:
    rng = np.random.default_rng(0)
    attack, bona = rng.normal(0, 1, 1000), rng.normal(2, 1, 1000)
    t = threshold_for_apcer(attack, 0.01)
    assert apcer_at(attack, t) <= 0.01 < apcer_at(attack, np.nextafter(t, -np.inf) - 1e-3)
    t = threshold_for_bpcer(bona, 0.05)
    assert bpcer_at(bona, t) <= 0.05


def test_auc_is_the_probability_a_bona_fide_outscores_an_attack() -> None:
    assert auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert auc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 0.0
    assert auc(np.array([1.0]), np.array([1.0])) == 0.5
    assert auc(np.array([1.0, 3.0]), np.array([2.0])) == 0.5


def test_det_curve_runs_from_all_accepted_to_none() -> None:
    apcer, bpcer = det_curve(np.array([0.6, 0.9]), np.array([0.1, 0.7]))
    assert apcer[0] == 1.0 and bpcer[0] == 0.0
    assert apcer[-1] == 0.0 and bpcer[-1] == 1.0
    assert np.all(np.diff(apcer) <= 0) and np.all(np.diff(bpcer) >= 0)


def test_report_uses_the_worst_attack_species() -> None:
    bona = np.linspace(0.5, 1.0, 100)
    report = pad_report(bona, {"print": np.full(50, 0.0), "replay": np.linspace(0.4, 0.9, 50)})
    assert report.worst_species == "replay"
    assert report.apcer_at_bpcer5 > 0.5
    assert report.bona_fide == 100 and report.attacks == 100
    with pytest.raises(InvalidInput):
        pad_report(bona, {})
