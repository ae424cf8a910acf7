"""Leave-one-source-out evaluation of a trained passive classifier.

A classifier over the passive features is only worth shipping if it holds on a source it
never saw: for every source, train on the others and score the held-out one. The pooled
result is computed over held-out scores only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput

F64 = npt.NDArray[np.float64]


def fit_logistic(features: F64, bona_fide: npt.NDArray[np.bool_]) -> tuple[F64, F64, F64]:
    """(mean, std, weights with bias last) of a standardised, L2-regularised logistic model."""
    from sklearn.linear_model import LogisticRegression

    mean = features.mean(axis=0)
    std = features.std(axis=0) + 1e-9
    model = LogisticRegression(C=0.5, max_iter=2000, class_weight="balanced")
    model.fit((features - mean) / std, bona_fide.astype(int))
    weights = np.r_[model.coef_[0], model.intercept_[0]].astype(np.float64)
    return mean, std, weights


def score_logistic(features: F64, mean: F64, std: F64, weights: F64) -> F64:
    """Log-odds of bona fide (higher = more likely bona fide)."""
    return np.asarray(((features - mean) / std) @ weights[:-1] + weights[-1], dtype=np.float64)


def leave_one_source_out(features: F64, bona_fide: npt.NDArray[np.bool_],
                         sources: Sequence[str]) -> F64:
    """Held-out log-odds for every row; sources lacking both classes only ever serve as tests."""
    src = np.asarray(sources)
    names = sorted(set(sources))
    if len(names) < 2:
        raise InvalidInput(f"expected 2 or more sources for leave-one-out, got {names}")
    out = np.zeros(len(src))
    for held in names:
        test = src == held
        train = ~test
        if len(set(bona_fide[train].tolist())) < 2:
            raise InvalidInput(f"expected live and spoof in the training sources without {held}")
        mean, std, weights = fit_logistic(features[train], bona_fide[train])
        out[test] = score_logistic(features[test], mean, std, weights)
    return out
