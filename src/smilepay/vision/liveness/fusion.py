"""Calibrated combination of the layers, and the policy per terminal capability.

Each layer's raw score is mapped by a logistic curve centred on its operating threshold, so
0.5 means "at the threshold" on every layer: ``calibrated = 1 / (1 + exp(-(raw - t) / s))``.
The threshold ``t`` is chosen from measured attack scores at a target APCER
(``calibrate_layer``). Layers that gate must all reach 0.5; the verdict's score is the lowest
gating score, so it stays comparable across terminals. A layer that does not generalise
(passive, see docs/liveness.md) is reported but does not gate unless the policy says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from smilepay.vision.liveness.metrics import threshold_for_apcer
from smilepay.vision.liveness.types import (
    ChallengeOutcome,
    ChallengePolicy,
    Decision,
    FrameEvidence,
    LivenessVerdict,
    TerminalCapability,
)


@dataclass(frozen=True)
class LayerCalibration:
    """Raw-score threshold (set by a target APCER) and the logistic scale around it."""

    threshold: float
    scale: float
    target_apcer: float = 0.01
    measured_on: str = ""

    def calibrate(self, raw: float) -> float:
        z = (raw - self.threshold) / self.scale
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def calibrate_layer(attack_raw: Sequence[float], bona_fide_raw: Sequence[float],
                    target_apcer: float, measured_on: str) -> LayerCalibration:
    """Threshold at ``target_apcer`` on ``attack_raw``; scale = a tenth of the score spread."""
    attack = np.asarray(attack_raw, dtype=np.float64)
    bona = np.asarray(bona_fide_raw, dtype=np.float64)
    threshold = threshold_for_apcer(attack, target_apcer)
    spread = float(np.percentile(np.r_[attack, bona], 95) - np.percentile(np.r_[attack, bona], 5))
    return LayerCalibration(threshold, max(spread / 10, 1e-6), target_apcer, measured_on)


# `smilepay eval depth` put the APCER-1% threshold at 6.1 mm on 500 synthetic scenes per
# kind, where fresh scenes then gave 1.5% on waved sheets; 8 mm keeps a margin (fresh:
# APCER <= 0.2%, BPCER 0%; docs/liveness.md).
DEPTH_CALIBRATION = LayerCalibration(threshold=8.0, scale=1.5, target_apcer=0.01,
                                     measured_on="synthetic depth scenes (smilepay eval depth)")
# fr_liveness P(live): uncalibrated across sources (AUC 0.3-0.9), so it never gates by default.
PASSIVE_CALIBRATION = LayerCalibration(threshold=0.5, scale=0.1, target_apcer=0.05,
                                       measured_on="none: advisory only")


@dataclass(frozen=True)
class LivenessPolicy:
    """What a terminal of one capability must pass."""

    capability: TerminalCapability
    challenge: ChallengePolicy
    depth: LayerCalibration | None = None
    passive: LayerCalibration = PASSIVE_CALIBRATION
    passive_gates: bool = False
    min_depth_frames: int = 3


def default_policies() -> dict[TerminalCapability, LivenessPolicy]:
    """RGB: a 5-step challenge (replay chance 0.47%). RGB + depth: 3 steps and the depth check."""
    return {
        TerminalCapability.RGB: LivenessPolicy(TerminalCapability.RGB, ChallengePolicy(steps=5)),
        TerminalCapability.RGB_DEPTH: LivenessPolicy(
            TerminalCapability.RGB_DEPTH, ChallengePolicy(steps=3), depth=DEPTH_CALIBRATION),
    }


@dataclass
class _Tally:
    gating: dict[str, float] = field(default_factory=dict)
    advisory: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def fuse(policy: LivenessPolicy, outcome: ChallengeOutcome,
         evidence: Sequence[FrameEvidence]) -> LivenessVerdict:
    """The verdict from the challenge outcome and the per-frame evidence."""
    tally = _Tally()
    tally.gating["challenge"] = 1.0 if outcome.passed else 0.0
    tally.reasons += [f"challenge:{r}" for r in outcome.reasons]
    if policy.depth is not None:
        depth = [e.depth_score for e in evidence if e.depth_score is not None]
        if len(depth) < policy.min_depth_frames:
            tally.gating["depth"] = 0.0
            tally.reasons.append("depth:too_few_frames")
        else:
            tally.gating["depth"] = float(np.median(depth))
            if tally.gating["depth"] < 0.5:
                tally.reasons.append("depth:flat_or_bent_surface")
    passive = [e.passive_score for e in evidence if e.passive_score is not None]
    if passive:
        target = tally.gating if policy.passive_gates else tally.advisory
        target["passive"] = float(np.median(passive))
        if policy.passive_gates and target["passive"] < 0.5:
            tally.reasons.append("passive:attack_like_texture")
    score = min(tally.gating.values())
    decision = Decision.LIVE if score >= 0.5 and not tally.reasons else Decision.ATTACK
    return LivenessVerdict(score, decision, tuple(tally.reasons), outcome,
                           {**tally.gating, **{f"{k} (advisory)": v
                                               for k, v in tally.advisory.items()}})
