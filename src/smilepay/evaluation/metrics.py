"""Verification metrics from genuine and impostor scores (pure numpy).

A pair whose face was not found scores ``-inf``: a genuine one is a false reject, an impostor one
can never be a false match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput

Scores = npt.NDArray[np.float64]
TARGET_FARS = (1e-2, 1e-3, 1e-4, 1e-5)


@dataclass(frozen=True)
class OperatingPoint:
    far_target: float
    threshold: float
    tar: float
    far_measured: float
    impostor_pairs: int
    impostors_above: int  # impostor pairs scoring at or above the threshold

    @property
    def supported(self) -> bool:
        """True when the data holds at least one impostor per target rate (far * n >= 1)."""
        return self.far_target * self.impostor_pairs >= 1.0


def _check(genuine: Scores, impostor: Scores) -> tuple[Scores, Scores]:
    g, i = np.asarray(genuine, dtype=np.float64), np.asarray(impostor, dtype=np.float64)
    if g.size == 0 or i.size == 0:
        raise InvalidInput(f"expected genuine and impostor scores, got {g.size} and {i.size}")
    return g, i


def operating_point(genuine: Scores, impostor: Scores, far: float) -> OperatingPoint:
    """The lowest threshold whose measured false-match rate is at most ``far``, and its TAR.

    With ``n`` impostors, at most ``floor(far * n)`` may score at or above the threshold.
    """
    g, i = _check(genuine, impostor)
    allowed = int(np.floor(far * i.size + 1e-9))
    ranked = np.sort(i)[::-1]
    if allowed >= i.size:
        threshold = float(ranked[-1])
    else:
        threshold = float(np.nextafter(ranked[allowed], np.inf))
    above = int((i >= threshold).sum())
    return OperatingPoint(far_target=far, threshold=threshold, tar=float((g >= threshold).mean()),
                          far_measured=above / i.size, impostor_pairs=int(i.size),
                          impostors_above=above)


def roc_curve(genuine: Scores, impostor: Scores) -> tuple[Scores, Scores, Scores]:
    """(far, tar, thresholds) at every distinct score, thresholds descending."""
    g, i = _check(genuine, impostor)
    scores = np.concatenate([g, i])
    labels = np.concatenate([np.ones(g.size), np.zeros(i.size)])
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    last_of_run = np.r_[np.diff(scores) != 0, True]
    tp = np.cumsum(labels)[last_of_run]
    fp = np.cumsum(1 - labels)[last_of_run]
    return fp / i.size, tp / g.size, scores[last_of_run]


def auc(genuine: Scores, impostor: Scores) -> float:
    """Area under the ROC: the chance a genuine pair outscores an impostor pair (ties half)."""
    g, i = _check(genuine, impostor)
    from scipy.stats import rankdata

    finite_floor = min(np.min(g[np.isfinite(g)], initial=0.0), np.min(i[np.isfinite(i)],
                                                                      initial=0.0)) - 1.0
    ranks = rankdata(np.nan_to_num(np.concatenate([g, i]), neginf=finite_floor))
    return float((ranks[: g.size].sum() - g.size * (g.size + 1) / 2) / (g.size * i.size))


def eer(genuine: Scores, impostor: Scores) -> float:
    """Equal error rate: where the false-match and false-non-match rates cross."""
    far, tar, _ = roc_curve(genuine, impostor)
    frr = 1.0 - tar
    crossing = int(np.argmax(far >= frr))
    if crossing == 0:
        return float((far[0] + frr[0]) / 2)
    f0, f1, r0, r1 = far[crossing - 1], far[crossing], frr[crossing - 1], frr[crossing]
    denominator = (f1 - f0) - (r1 - r0)
    t = 0.0 if denominator == 0 else (r0 - f0) / denominator
    return float(f0 + t * (f1 - f0))


def calibration_rows(genuine: Scores, impostor: Scores,
                     fars: tuple[float, ...] = TARGET_FARS) -> list[OperatingPoint]:
    """One operating point per target false-match rate: the calibration table of a strategy."""
    return [operating_point(genuine, impostor, far) for far in fars]
