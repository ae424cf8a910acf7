"""Document-vs-live scores and their report beside the same model's live-vs-live figures.

Each probe (a rendered document, or for the live baseline the very photo it was rendered from)
is scored against every live photo: a pair is genuine when both are of one identity. The two
conditions share every pair, so the difference is the document rendering alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smilepay.evaluation.metrics import Scores, auc, calibration_rows, eer
from smilepay.vision.types import Vector

DOCUMENT_FARS = (1e-2, 1e-3, 1e-4, 1e-5)


def far_key(far: float) -> str:
    return f"{far:.0e}".replace("e-0", "e-")


@dataclass(frozen=True)
class PairScores:
    genuine: Scores
    impostor: Scores
    probes_missing: int  # probes without a face: their pairs score -inf


def cross_scores(probes: Mapping[str, Vector | None],
                 live: Sequence[tuple[str, Vector | None]]) -> PairScores:
    """Cosine of every (probe identity, live photo) pair; a missing face scores ``-inf``.

    Live photos without a face are left out of both conditions (they are not the document's
    doing); probes without a face stay in (a document the pipeline cannot read is a reject)."""
    kept = [(ident, v) for ident, v in live if v is not None]
    if not kept or not probes:
        raise ValueError(f"expected probes and live vectors, got {len(probes)} and {len(kept)}")
    live_ids = np.array([ident for ident, _ in kept])
    live_matrix = np.stack([v for _, v in kept]).astype(np.float64)
    genuine: list[Scores] = []
    impostor: list[Scores] = []
    missing = 0
    for ident, vector in probes.items():
        same = live_ids == ident
        if vector is None:
            missing += 1
            row = np.full(live_ids.size, -np.inf)
        else:
            row = live_matrix @ vector.astype(np.float64)
        genuine.append(row[same])
        impostor.append(row[~same])
    return PairScores(np.concatenate(genuine), np.concatenate(impostor), missing)


def summarise(scores: PairScores, fars: tuple[float, ...] = DOCUMENT_FARS) -> dict[str, Any]:
    points = calibration_rows(scores.genuine, scores.impostor, fars)
    return {
        "n_genuine": int(scores.genuine.size),
        "n_impostor": int(scores.impostor.size),
        "probes_without_face": scores.probes_missing,
        "auc": auc(scores.genuine, scores.impostor),
        "eer": eer(scores.genuine, scores.impostor),
        "tar_at_far": {far_key(p.far_target): p.tar for p in points},
        "threshold_at_far": {far_key(p.far_target): p.threshold for p in points},
        "impostors_above_at_far": {far_key(p.far_target): p.impostors_above for p in points},
        "supported_at_far": {far_key(p.far_target): p.supported for p in points},
    }


def at_threshold(scores: PairScores, threshold: float) -> dict[str, float | int]:
    """What a fixed threshold (e.g. the live table's) gives on these pairs."""
    above = int((scores.impostor >= threshold).sum())
    return {"threshold": threshold, "tar": float((scores.genuine >= threshold).mean()),
            "far": above / scores.impostor.size, "impostors_above": above}


def calibration_table(model_id: str, scores: PairScores, source: str,
                      fars: tuple[float, ...] = DOCUMENT_FARS) -> dict[str, Any]:
    """The shipped table's format (``smilepay.vision.calibration``), supported rows only."""
    points = calibration_rows(scores.genuine, scores.impostor, fars)
    return {
        "model_id": model_id,
        "source": source,
        "n_genuine": int(scores.genuine.size),
        "rows": [{"far": p.far_target, "threshold": p.threshold, "tar": p.tar,
                  "impostor_pairs": p.impostor_pairs, "impostors_above": p.impostors_above}
                 for p in points if p.supported],
    }


def resolution(n_impostor: int, far: float) -> str:
    """How many impostor pairs back a rate, in words (one pair moves the rate by 1/n)."""
    allowed = int(np.floor(far * n_impostor + 1e-9))
    return (f"{n_impostor} impostor pairs: at FAR {far:g} at most {allowed} may score above the "
            f"threshold; one pair moves the measured rate by {1 / n_impostor:.1e}")
