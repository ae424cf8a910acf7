"""Synthetic observation sequences: a face performing actions on cue, for tests and benches.

Each action rises from rest over ``rise_ms``, holds, and falls back, with small noise and an
embedding that drifts slightly around one identity, like a real capture at ``fps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smilepay.vision.liveness.types import Action, FrameObservation
from smilepay.vision.types import FaceSignals

_PEAK = {Action.SMILE: 0.85, Action.BLINK: 0.85, Action.OPEN_MOUTH: 0.7,
         Action.TURN_LEFT: 30.0, Action.TURN_RIGHT: -30.0}


@dataclass(frozen=True)
class Cue:
    """Do ``action`` from ``start_ms`` for ``hold_ms`` (plus rise and fall)."""

    action: Action
    start_ms: int
    hold_ms: int = 400


def _envelope(t: float, cue: Cue, rise_ms: float) -> float:
    dt = t - cue.start_ms
    hold = 120 if cue.action is Action.BLINK else cue.hold_ms
    rise = 60 if cue.action is Action.BLINK else rise_ms
    if dt < 0 or dt > 2 * rise + hold:
        return 0.0
    if dt < rise:
        return dt / rise
    if dt < rise + hold:
        return 1.0
    return 1.0 - (dt - rise - hold) / rise


def perform(cues: Sequence[Cue], start_ms: int, duration_ms: int, *, fps: float = 15.0,
            seed: int = 0, identity: np.ndarray | None = None, rise_ms: float = 250.0,
            noise: float = 0.02) -> list[FrameObservation]:
    """Frames of one person doing ``cues`` between ``start_ms`` and ``start_ms + duration_ms``."""
    rng = np.random.default_rng(seed)
    ident = identity if identity is not None else rng.standard_normal(128)
    ident = ident / np.linalg.norm(ident)
    frames = []
    step = 1000.0 / fps
    t = float(start_ms)
    while t <= start_ms + duration_ms:
        level = {a: 0.0 for a in Action}
        for cue in cues:
            level[cue.action] = max(level[cue.action], _envelope(t, cue, rise_ms))
        yaw = _PEAK[Action.TURN_LEFT] * level[Action.TURN_LEFT] + (
            _PEAK[Action.TURN_RIGHT] * level[Action.TURN_RIGHT])
        blink = 0.1 + _PEAK[Action.BLINK] * level[Action.BLINK]
        signals = FaceSignals(
            smile=float(np.clip(0.05 + _PEAK[Action.SMILE] * level[Action.SMILE]
                                + rng.normal(0, noise), 0, 1)),
            blink_left=float(np.clip(blink + rng.normal(0, noise), 0, 1)),
            blink_right=float(np.clip(blink + rng.normal(0, noise), 0, 1)),
            mouth_open=float(np.clip(0.03 + _PEAK[Action.OPEN_MOUTH] * level[Action.OPEN_MOUTH]
                                     + rng.normal(0, noise), 0, 1)),
            yaw_deg=float(yaw + rng.normal(0, 1.5)),
            pitch_deg=float(rng.normal(0, 1.5)),
            roll_deg=float(rng.normal(0, 1.0)),
        )
        vec = ident + rng.normal(0, 0.15 / np.sqrt(ident.size), ident.size)
        frames.append(FrameObservation(round(t), signals,
                                       (vec / np.linalg.norm(vec)).astype(np.float32)))
        t += step * float(rng.uniform(0.85, 1.15))  # capture jitter
    return frames


def answer(steps: Sequence[Action], issued_at_ms: int, *, gap_ms: int = 900,
           first_ms: int = 700) -> list[Cue]:
    """Cues that answer ``steps`` one after another, as a cooperative customer would."""
    return [Cue(a, issued_at_ms + first_ms + i * (gap_ms + 400)) for i, a in enumerate(steps)]
