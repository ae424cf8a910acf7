"""``LayeredLivenessCheck``: the ``LivenessCheck`` port over challenge, passive and depth layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from smilepay.errors import InvalidInput
from smilepay.ports.liveness import PassiveScorer
from smilepay.vision.liveness.challenge import draw_challenge
from smilepay.vision.liveness.depth import measure_relief, relief_score_mm, validate_depth_map
from smilepay.vision.liveness.fusion import LivenessPolicy, default_policies, fuse
from smilepay.vision.liveness.types import (
    Challenge,
    FrameEvidence,
    FrameObservation,
    LivenessFrame,
    LivenessVerdict,
    TerminalCapability,
)
from smilepay.vision.liveness.verify import VerifierSettings, verify_challenge


class LayeredLivenessCheck:
    """Challenge-response always; passive scorers when given; depth on RGB + depth terminals.

    Pure apart from the passive scorers it is handed (models live in adapters). Thread-safe
    as long as the scorers are.
    """

    def __init__(self, passive: Sequence[PassiveScorer] = (),
                 policies: Mapping[TerminalCapability, LivenessPolicy] | None = None,
                 verifier: VerifierSettings | None = None) -> None:
        self.passive = list(passive)
        self.policies = dict(policies or default_policies())
        self.verifier = verifier or VerifierSettings()

    def policy_for(self, capability: TerminalCapability) -> LivenessPolicy:
        if capability not in self.policies:
            raise InvalidInput(f"expected a capability in {sorted(self.policies)}, "
                               f"got {capability!r}")
        return self.policies[capability]

    def issue_challenge(self, nonce: str, capability: TerminalCapability,
                        now_ms: int) -> Challenge:
        return draw_challenge(self.policy_for(capability).challenge, nonce, now_ms)

    def passive_gates(self, capability: TerminalCapability) -> bool:
        """Whether the passive layer decides on ``capability``'s terminals (then it must score
        every frame; advisory, one frame's score is enough for the audit)."""
        return bool(self.passive) and self.policy_for(capability).passive_gates

    def score_passive(self, frame: LivenessFrame) -> float | None:
        """The calibrated passive score of ``frame``'s face (``None`` without scorers or face)."""
        if not self.passive or frame.face is None:
            return None
        raw = float(np.mean([s.score(frame.image, frame.face) for s in self.passive]))
        return self.policy_for(TerminalCapability.RGB).passive.calibrate(raw)

    def examine_frame(self, frame: LivenessFrame, *, passive: bool = True) -> FrameEvidence:
        """The frame's evidence; ``passive=False`` skips the passive scorers (about 10 ms a
        frame for fr_liveness), for callers that score only the deciding frame."""
        observation = FrameObservation(frame.timestamp_ms, frame.signals, frame.embedding)
        reasons: list[str] = []
        depth_score: float | None = None
        if frame.face is None:
            return FrameEvidence(observation, None, None, ("no_face",))
        passive_score = self.score_passive(frame) if passive else None
        if frame.depth_mm is not None:
            depth = validate_depth_map(frame.depth_mm, frame.image.shape[:2])
            relief = measure_relief(depth, frame.face)
            if relief.measured:
                calibration = self.policy_for(TerminalCapability.RGB_DEPTH).depth
                if calibration is not None:
                    depth_score = calibration.calibrate(relief_score_mm(relief))
            else:
                reasons.append(relief.reason)
        return FrameEvidence(observation, passive_score, depth_score, tuple(reasons))

    def decide(self, challenge: Challenge, evidence: Sequence[FrameEvidence],
               capability: TerminalCapability) -> LivenessVerdict:
        policy = self.policy_for(capability)
        outcome = verify_challenge(challenge, [e.observation for e in evidence], self.verifier)
        return fuse(policy, outcome, evidence)
