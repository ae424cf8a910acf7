"""Smile detection metrics: AUC, accuracy at a threshold, and the best-accuracy threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smilepay.errors import InvalidInput
from smilepay.evaluation.metrics import auc

# Thresholds measured on smile_genki4k (docs/accuracy.md), used when none is given.
SMILE_THRESHOLDS = {"mediapipe": 0.25, "fer_emotion": 0.5, "fr_expression": 0.5}


@dataclass(frozen=True)
class SmileReport:
    scorer: str
    auc: float
    threshold: float
    accuracy: float
    best_threshold: float
    best_accuracy: float
    n_smile: int
    n_nonsmile: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def evaluate_smile(scorer: str, labels: Sequence[int], scores: Sequence[float],
                   threshold: float | None = None) -> SmileReport:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.size != s.size or y.all() or not y.any():
        raise InvalidInput(f"expected smiling and non-smiling examples with one score each, got "
                           f"{int(y.sum())} smiling, {int((~y).sum())} not, {s.size} scores")
    chosen = SMILE_THRESHOLDS.get(scorer, 0.5) if threshold is None else threshold
    candidates = np.unique(s)
    accuracies = [float(((s >= t) == y).mean()) for t in candidates]
    best = int(np.argmax(accuracies))
    return SmileReport(scorer=scorer, auc=auc(s[y], s[~y]), threshold=chosen,
                       accuracy=float(((s >= chosen) == y).mean()),
                       best_threshold=float(candidates[best]), best_accuracy=accuracies[best],
                       n_smile=int(y.sum()), n_nonsmile=int((~y).sum()))
