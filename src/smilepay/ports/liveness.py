"""Liveness port: one check behind which the layers (challenge, passive, depth) live.

Call it in three moments (docs/liveness.md, "Calling the port"):

1. ``issue_challenge(nonce, capability, now_ms)`` when a payment or enrolment starts; show
   the steps to the customer, keep the ``Challenge`` with the payment.
2. ``examine_frame(frame)`` for every frame the terminal sends; keep the small
   ``FrameEvidence`` (no pixels) in capture order.
3. ``decide(challenge, evidence, capability)`` at the end: a ``LivenessVerdict`` with a
   ``score`` in 0..1 (>= 0.5 live), a ``decision`` and the ``reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smilepay.vision.liveness.types import (
    Challenge,
    FrameEvidence,
    LivenessFrame,
    LivenessVerdict,
    TerminalCapability,
)
from smilepay.vision.types import Face, Image


class PassiveScorer(Protocol):
    """One passive (single-image) presentation-attack score; higher = more likely bona fide."""

    name: str

    def score(self, image: Image, face: Face | None) -> float:
        """Score the face in ``image`` (BGR); ``face=None`` means the image is a face crop."""
        ...


class LivenessCheck(Protocol):
    def issue_challenge(self, nonce: str, capability: TerminalCapability,
                        now_ms: int) -> Challenge: ...

    def examine_frame(self, frame: LivenessFrame) -> FrameEvidence: ...

    def decide(self, challenge: Challenge, evidence: Sequence[FrameEvidence],
               capability: TerminalCapability) -> LivenessVerdict: ...
