"""Verification report: scores of every pair, metrics, and a calibration table (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from smilepay.evaluation.metrics import (
    TARGET_FARS,
    OperatingPoint,
    Scores,
    auc,
    calibration_rows,
    eer,
)
from smilepay.evaluation.pairs import Pair
from smilepay.vision.types import Vector


@dataclass(frozen=True)
class VerificationReport:
    model_id: str
    genuine: Scores
    impostor: Scores
    auc: float
    eer: float
    fail_to_detect: int  # images without a usable face
    points: tuple[OperatingPoint, ...]

    def to_json(self) -> dict[str, Any]:
        def key(far: float) -> str:
            return f"{far:.0e}".replace("e-0", "e-")

        return {
            "model": self.model_id,
            "auc": self.auc,
            "eer": self.eer,
            "fail_to_detect": self.fail_to_detect,
            "n_genuine": int(self.genuine.size),
            "n_impostor": int(self.impostor.size),
            "tar_at_far": {key(p.far_target): p.tar for p in self.points},
            "threshold_at_far": {key(p.far_target): p.threshold for p in self.points},
            "impostors_above_at_far": {key(p.far_target): p.impostors_above for p in self.points},
            "supported_at_far": {key(p.far_target): p.supported for p in self.points},
        }

    def calibration_json(self, source: str) -> dict[str, Any]:
        """The calibration table to ship for this model (``smilepay.vision.calibration``)."""
        return {
            "model_id": self.model_id,
            "source": source,
            "n_genuine": int(self.genuine.size),
            "rows": [{"far": p.far_target, "threshold": p.threshold, "tar": p.tar,
                      "impostor_pairs": p.impostor_pairs, "impostors_above": p.impostors_above}
                     for p in self.points if p.supported],
        }


def pair_scores(pairs: list[Pair], vectors: dict[str, Vector | None]) -> tuple[Scores, Scores]:
    """(genuine, impostor) cosine scores; a pair with a missing face scores ``-inf``."""
    paths = sorted(vectors)
    index = {p: k for k, p in enumerate(paths)}
    present = [v for v in vectors.values() if v is not None]
    dim = present[0].size if present else 1
    missing = np.full(dim, np.nan, np.float32)
    rows = [v if v is not None else missing for v in (vectors[p] for p in paths)]
    matrix = np.stack(rows).astype(np.float64)
    a = np.array([index[p.path_a] for p in pairs])
    b = np.array([index[p.path_b] for p in pairs])
    scores = np.einsum("ij,ij->i", matrix[a], matrix[b])
    scores = np.where(np.isnan(scores), -np.inf, scores)
    same = np.array([p.same for p in pairs], dtype=bool)
    return scores[same], scores[~same]


def evaluate_verification(model_id: str, pairs: list[Pair], vectors: dict[str, Vector | None],
                          fars: tuple[float, ...] = TARGET_FARS) -> VerificationReport:
    genuine, impostor = pair_scores(pairs, vectors)
    used = {p.path_a for p in pairs} | {p.path_b for p in pairs}
    return VerificationReport(
        model_id=model_id, genuine=genuine, impostor=impostor, auc=auc(genuine, impostor),
        eer=eer(genuine, impostor), fail_to_detect=sum(1 for p in used if vectors.get(p) is None),
        points=tuple(calibration_rows(genuine, impostor, fars)),
    )
