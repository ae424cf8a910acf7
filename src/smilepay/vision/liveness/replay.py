"""Challenges against recorded videos: what a replay attack can and cannot answer.

``observe_video`` turns a clip into per-frame observations with the face engine (capture
timestamps from the container). ``simulate_replays`` plays that fixed timeline against many
random challenges, each issued at a random moment of the clip (the attacker starts playback
whenever they like), and counts how many it answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.challenge import possible_sequences
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    ChallengePolicy,
    FrameObservation,
    StepResult,
)
from smilepay.vision.liveness.verify import VerifierSettings, verify_challenge
from smilepay.vision.types import FaceSignals, Image, Vector

FrameReader = Callable[[Image], tuple[FaceSignals | None, Vector | None]]


def read_video_frames(path: Path) -> Iterator[tuple[int, Image]]:
    """(capture timestamp ms, BGR frame) for every frame of a video file."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput(f"expected a readable video file, got {path}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield round(float(capture.get(cv2.CAP_PROP_POS_MSEC))), np.asarray(frame, np.uint8)
    finally:
        capture.release()


def observe_video(path: Path, read_face: FrameReader,
                  on_frame: Callable[[], None] | None = None) -> list[FrameObservation]:
    """Observations of a clip, timestamps made strictly increasing from 0."""
    frames: list[FrameObservation] = []
    last = -1
    for t_ms, image in read_video_frames(path):
        t_ms = max(t_ms, last + 1)
        last = t_ms
        signals, embedding = read_face(image)
        frames.append(FrameObservation(t_ms, signals, embedding))
        if on_frame is not None:
            on_frame()
    return frames


def shift_timeline(frames: Sequence[FrameObservation], offset_ms: int,
                   issued_at_ms: int) -> list[FrameObservation]:
    """The clip played from ``offset_ms`` so that this moment is ``issued_at_ms``."""
    return [replace(f, timestamp_ms=f.timestamp_ms - offset_ms + issued_at_ms)
            for f in frames if f.timestamp_ms >= offset_ms]


@dataclass(frozen=True)
class ReplayStats:
    trials: int
    passed: int
    passed_steps_histogram: tuple[int, ...]  # how many trials answered 0, 1, ... steps
    first_failure_reasons: dict[str, int]

    @property
    def pass_rate(self) -> float:
        return self.passed / self.trials

    @property
    def pass_rate_upper95(self) -> float:
        """One-sided 95% upper bound (Clopper-Pearson; 3/n 'rule of three' when none passed)."""
        from scipy.stats import beta

        if self.passed == self.trials:
            return 1.0
        return float(beta.ppf(0.95, self.passed + 1, self.trials - self.passed))


def simulate_replays(frames: Sequence[FrameObservation], policy: ChallengePolicy, trials: int,
                     seed: int = 0, settings: VerifierSettings | None = None,
                     on_trial: Callable[[], None] | None = None) -> ReplayStats:
    """Play one recorded timeline against ``trials`` random challenges and start times
    (``on_trial`` is called after each, for a progress bar)."""
    if not frames:
        raise InvalidInput("expected a recorded timeline with frames, got none")
    rng = np.random.default_rng(seed)
    sequences = list(possible_sequences(policy))
    duration = frames[-1].timestamp_ms - frames[0].timestamp_ms
    issued = 10_000_000
    passed = 0
    histogram = [0] * (policy.steps + 1)
    reasons: dict[str, int] = {}
    for _ in range(trials):
        steps = sequences[int(rng.integers(len(sequences)))]
        offset = frames[0].timestamp_ms + int(rng.integers(0, max(duration - 1000, 1)))
        challenge = Challenge("replay", steps, issued, policy.step_timeout_ms,
                              issued + policy.steps * policy.step_timeout_ms + policy.slack_ms)
        outcome = verify_challenge(challenge, shift_timeline(frames, offset, issued), settings)
        passed += outcome.passed
        histogram[sum(s.passed for s in outcome.steps)] += 1
        if outcome.reasons:
            reasons[outcome.reasons[0]] = reasons.get(outcome.reasons[0], 0) + 1
        if on_trial is not None:
            on_trial()
    return ReplayStats(trials, passed, tuple(histogram), reasons)


def sweep_one_step(frames: Sequence[FrameObservation], action: Action, every_ms: int = 50,
                   settings: VerifierSettings | None = None) -> list[tuple[int, StepResult]]:
    """Issue a one-step challenge at every ``every_ms`` of a clip; (issue time, step) that pass."""
    answered = []
    for issue in range(frames[0].timestamp_ms, frames[-1].timestamp_ms - 1000, every_ms):
        challenge = Challenge("sweep", (action,), issue, 5000, issue + 7000)
        outcome = verify_challenge(challenge, [f for f in frames if f.timestamp_ms >= issue],
                                   settings)
        if outcome.passed:
            answered.append((issue, outcome.steps[0]))
    return answered


def merge_intervals(times: Sequence[int], gap: int) -> list[tuple[int, int]]:
    """Runs of times no more than ``gap`` apart, as (first, last)."""
    out: list[tuple[int, int]] = []
    for t in times:
        if out and t - out[-1][1] <= gap:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out
