"""Plain values of the liveness layers (no I/O, no frameworks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from smilepay.vision.types import Face, FaceSignals, Image, Vector

DepthMap = npt.NDArray[np.uint16]  # H x W millimetres, 0 = no reading (docs/depth-format.md)


class Action(StrEnum):
    """What a challenge step asks the customer to do."""

    SMILE = "smile"
    BLINK = "blink"
    TURN_LEFT = "turn_left"  # the customer turns their head to their own left
    TURN_RIGHT = "turn_right"
    OPEN_MOUTH = "open_mouth"


class TerminalCapability(StrEnum):
    """What a terminal's camera can send."""

    RGB = "rgb"
    RGB_DEPTH = "rgb_depth"


class Decision(StrEnum):
    LIVE = "live"
    ATTACK = "attack"


@dataclass(frozen=True)
class ChallengePolicy:
    """How challenges are drawn and how long each step may take."""

    steps: int = 3
    actions: tuple[Action, ...] = tuple(Action)
    allow_repeats: bool = False  # never the same action twice in a row
    step_timeout_ms: int = 5000
    slack_ms: int = 2000  # extra time on the whole challenge (network, start-up)


@dataclass(frozen=True)
class Challenge:
    """A random sequence of actions bound to a nonce (payment or enrolment id)."""

    nonce: str
    steps: tuple[Action, ...]
    issued_at_ms: int
    step_timeout_ms: int
    expires_at_ms: int


@dataclass(frozen=True)
class FrameObservation:
    """What the verifier needs from one frame: its capture time, expression, identity.

    ``signals`` / ``embedding`` are ``None`` when no face was found in the frame.
    """

    timestamp_ms: int
    signals: FaceSignals | None
    embedding: Vector | None


@dataclass(frozen=True)
class StepResult:
    action: Action
    passed: bool
    onset_ms: int | None = None
    peak_ms: int | None = None
    release_ms: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ChallengeOutcome:
    passed: bool
    steps: tuple[StepResult, ...]
    reasons: tuple[str, ...]
    min_identity_cosine: float | None = None


@dataclass(frozen=True)
class LivenessFrame:
    """One frame as a terminal sends it, with what the face engine found in it."""

    timestamp_ms: int
    image: Image  # BGR
    face: Face | None
    signals: FaceSignals | None
    embedding: Vector | None
    depth_mm: DepthMap | None = None


@dataclass(frozen=True)
class FrameEvidence:
    """The small per-frame result kept until the end of a challenge (no pixels)."""

    observation: FrameObservation
    passive_score: float | None  # calibrated, 0.5 = the operating threshold
    depth_score: float | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class LivenessVerdict:
    """The port's answer: a score in 0..1 (>= 0.5 live), the decision and why."""

    score: float
    decision: Decision
    reasons: tuple[str, ...]
    challenge: ChallengeOutcome  # the step-by-step result the verdict rests on
    layer_scores: dict[str, float] = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        return self.decision is Decision.LIVE
