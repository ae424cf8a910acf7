"""The challenge verifier: order, timing, same face, natural dynamics. Pure.

A step is answered when, inside its window, the action's activation goes from neutral to
active (onset) and back to neutral (release). The next step's window opens at the release.
The last step has no next window, so by default it is answered once it is active after a
neutral onset (``last_step_at_peak``): waiting for its release cost the customer 1.2 s of
camera time on the bona fide clip (peak 4504 ms, release 5708 ms), and in replay simulations
(5000 random five-step challenges per clip) no recording passed either way.
A step fails when its window closes first, or when another deliberate action starts (from
rest to active) inside it; blinks are involuntary and tolerated. The answers must lie between
the challenge's issue and expiry (later frames are ignored), with capture timestamps that
increase, no long gaps, no long absence of the face once it was seen (an empty camera before
the face arrives is not a lost face), and embeddings that stay close to the first face's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from smilepay.vision.liveness.actions import (
    DEFAULT_THRESHOLDS,
    ActionThresholds,
    Baseline,
    measure_baseline,
)
from smilepay.vision.liveness.challenge import INVOLUNTARY
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    ChallengeOutcome,
    FrameObservation,
    StepResult,
)
from smilepay.vision.types import FaceSignals


@dataclass(frozen=True)
class VerifierSettings:
    thresholds: dict[Action, ActionThresholds] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    max_gap_ms: int = 500  # frames at >= 2 fps; a blink needs more, so terminals send 10+ fps
    max_face_lost_ms: int = 700
    same_face_cosine: float = 0.30  # frontal frames against the first frontal one
    continuity_cosine: float = 0.55  # consecutive face frames (one odd frame forgiven)
    frontal_yaw_deg: float = 12.0
    last_step_at_peak: bool = True  # the last step needs onset and peak, not the release


@dataclass(frozen=True)
class _Seen:
    t_ms: int
    signals: FaceSignals


def _check_timeline(challenge: Challenge, frames: Sequence[FrameObservation],
                    settings: VerifierSettings) -> list[str]:
    reasons: list[str] = []
    if not frames:
        return ["no_frames"]
    times = [f.timestamp_ms for f in frames]
    if any(b <= a for a, b in itertools.pairwise(times)):
        reasons.append("timestamps_not_increasing")
    if times[0] < challenge.issued_at_ms:
        reasons.append("frame_before_challenge")
    if len(times) > 1 and max(np.diff(times)) > settings.max_gap_ms:
        reasons.append("frame_gap")
    lost_since: int | None = None
    seen = False  # a face is lost only once it was there: an empty camera before is waiting
    for f in frames:
        if f.signals is None:
            if not seen:
                continue
            lost_since = f.timestamp_ms if lost_since is None else lost_since
            if f.timestamp_ms - lost_since > settings.max_face_lost_ms:
                reasons.append("face_lost")
                break
        else:
            seen, lost_since = True, None
    return reasons


def check_same_face(frames: Sequence[FrameObservation],
                    settings: VerifierSettings) -> tuple[list[str], float | None]:
    """Reasons (if any) and the lowest cosine of a frontal frame against the first frontal one.

    Embeddings drop a lot with head pose (cosine 0.2 between a face turned 35 degrees each
    way), so identity is compared on frontal frames only (yaw within ``frontal_yaw_deg`` of
    the customer's resting yaw). A switch of person shows as a drop between consecutive
    frames that persists: one odd frame (motion blur) is forgiven when the next frame agrees
    with the one before it.
    """
    pairs = [(f.embedding, f.signals.yaw_deg) for f in frames
             if f.embedding is not None and f.signals is not None]
    if not pairs:
        return ["no_embedding"], None
    unit = np.stack([v / max(float(np.linalg.norm(v)), 1e-9) for v, _ in pairs])
    yaw = np.array([y for _, y in pairs])
    frontal = np.abs(yaw - np.median(yaw)) <= settings.frontal_yaw_deg
    reasons = []
    min_cos: float | None = None
    if frontal.any():
        ref = unit[frontal]
        min_cos = float((ref @ ref[0]).min())
        if min_cos < settings.same_face_cosine:
            reasons.append("face_changed")
    for i in range(1, len(unit)):
        if float(unit[i] @ unit[i - 1]) >= settings.continuity_cosine:
            continue
        if i + 1 >= len(unit) or float(unit[i + 1] @ unit[i - 1]) < settings.continuity_cosine:
            reasons.append("face_discontinuous")
            break
    return reasons, min_cos


def _answer_step(action: Action, seen: Sequence[_Seen], start_ms: int, end_ms: int,
                 baseline: Baseline, settings: VerifierSettings,
                 deliberate: Sequence[Action], last: bool = False) -> StepResult:
    at_peak = last and settings.last_step_at_peak
    th = settings.thresholds[action]
    neutral_at: int | None = None
    peak_at: int | None = None
    rested: set[Action] = set()  # other actions seen at rest inside this window
    for s in seen:
        if s.t_ms < start_ms:
            continue
        if s.t_ms > end_ms:
            break
        for other in deliberate:
            if other is action:
                continue
            level_other = baseline.activation(other, s.signals)
            if level_other <= settings.thresholds[other].neutral:
                rested.add(other)
            elif other in rested and level_other >= settings.thresholds[other].active:
                # Another action started inside the window (one still fading from before
                # the window opened does not count).
                return StepResult(action, False, neutral_at, peak_at, None,
                                  f"unexpected_{other.value}")
        level = baseline.activation(action, s.signals)
        if peak_at is None:
            if level <= th.neutral:
                neutral_at = s.t_ms
            elif level >= th.active and neutral_at is not None:
                peak_at = s.t_ms
                if at_peak:
                    return StepResult(action, True, neutral_at, peak_at, None)
        elif level <= th.neutral:
            return StepResult(action, True, neutral_at, peak_at, s.t_ms)
    if neutral_at is None:
        why = "no_neutral_onset"
    elif peak_at is None:
        why = "not_done"
    else:
        why = "not_released"
    return StepResult(action, False, neutral_at, peak_at, None, f"{action.value}_{why}")


def verify_challenge(challenge: Challenge, frames: Sequence[FrameObservation],
                     settings: VerifierSettings | None = None) -> ChallengeOutcome:
    """Whether ``frames`` (in capture order) answer ``challenge``; reasons when not."""
    settings = settings or VerifierSettings()
    reasons = _check_timeline(challenge, frames, settings)
    face_reasons, min_cos = check_same_face(frames, settings)
    reasons += face_reasons
    seen = [_Seen(f.timestamp_ms, f.signals) for f in frames if f.signals is not None]
    baseline = measure_baseline([s.signals for s in seen])
    deliberate = [a for a in settings.thresholds if a not in INVOLUNTARY]
    results: list[StepResult] = []
    start = challenge.issued_at_ms
    for i, action in enumerate(challenge.steps):
        end = min(start + challenge.step_timeout_ms, challenge.expires_at_ms)
        result = _answer_step(action, seen, start, end, baseline, settings, deliberate,
                              last=i == len(challenge.steps) - 1)
        results.append(result)
        if not result.passed:
            reasons.append(result.reason)
            break
        start = result.release_ms if result.release_ms is not None else end
    passed = not reasons and len(results) == len(challenge.steps)
    return ChallengeOutcome(passed, tuple(results), tuple(reasons), min_cos)
