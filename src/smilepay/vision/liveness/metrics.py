"""ISO/IEC 30107-3 measures over scores where higher means more likely bona fide.

APCER(t): proportion of attack presentations accepted (score >= t).
BPCER(t): proportion of bona fide presentations rejected (score < t).
With several attack species (PAIs), ISO reports the worst species' APCER; ``pad_report``
takes per-species attack scores for that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput
from smilepay.evaluation.metrics import auc  # P(bona fide outscores attack), ties half

Scores = npt.NDArray[np.float64]


def _as_scores(values: Sequence[float] | Scores, what: str) -> Scores:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InvalidInput(f"expected a non-empty list of finite {what} scores, got {arr.shape}")
    return arr


def apcer_at(attack: Scores, threshold: float) -> float:
    return float(np.mean(attack >= threshold))


def bpcer_at(bona_fide: Scores, threshold: float) -> float:
    return float(np.mean(bona_fide < threshold))


def threshold_for_apcer(attack: Scores, target_apcer: float) -> float:
    """The lowest threshold whose APCER is at most ``target_apcer``."""
    ordered = np.sort(attack)[::-1]
    allowed = int(np.floor(target_apcer * len(ordered) + 1e-9))  # attacks we may accept
    if allowed >= len(ordered):
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], np.inf))


def threshold_for_bpcer(bona_fide: Scores, target_bpcer: float) -> float:
    """The highest threshold whose BPCER is at most ``target_bpcer``."""
    ordered = np.sort(bona_fide)
    allowed = int(np.floor(target_bpcer * len(ordered) + 1e-9))  # genuine we may reject
    return float(ordered[min(allowed, len(ordered) - 1)])


def det_curve(bona_fide: Scores, attack: Scores) -> tuple[Scores, Scores]:
    """(APCER, BPCER) at every distinct threshold, for a DET plot."""
    thresholds = np.unique(np.concatenate([bona_fide, attack, [np.inf]]))
    apcer = np.array([apcer_at(attack, t) for t in thresholds])
    bpcer = np.array([bpcer_at(bona_fide, t) for t in thresholds])
    return apcer, bpcer


@dataclass(frozen=True)
class PadReport:
    """The numbers ``smilepay eval pad`` prints for one source (or pooled)."""

    bona_fide: int
    attacks: int
    auc: float
    apcer_at_bpcer5: float
    bpcer_at_apcer1: float
    bpcer_at_apcer5: float
    worst_species: str = ""


def pad_report(bona_fide: Sequence[float] | Scores,
               attacks: Mapping[str, Sequence[float] | Scores]) -> PadReport:
    """ISO 30107-3 summary; with several species, APCER is the worst species' APCER."""
    bf = _as_scores(bona_fide, "bona fide")
    species = {k: _as_scores(v, f"{k} attack") for k, v in attacks.items() if len(v)}
    if not species:
        raise InvalidInput("expected attack scores for at least one species, got none")
    pooled = np.concatenate(list(species.values()))
    t5 = threshold_for_bpcer(bf, 0.05)
    apcer5 = {k: apcer_at(v, t5) for k, v in species.items()}
    worst = max(apcer5, key=lambda k: apcer5[k])

    def bpcer_for(target: float) -> float:
        # The threshold must hold every species to the target APCER.
        t = max(threshold_for_apcer(v, target) for v in species.values())
        return bpcer_at(bf, t)

    return PadReport(len(bf), len(pooled), auc(bf, pooled), apcer5[worst],
                     bpcer_for(0.01), bpcer_for(0.05), worst)
