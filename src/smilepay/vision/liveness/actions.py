"""How much of each action a face shows, measured from its neutral baseline.

Every action has an activation read from ``FaceSignals`` minus the customer's own baseline
(the median over the challenge, so a resting smile or narrow eyes do not count), and two
thresholds with hysteresis: ``active`` (the action is being done) and ``neutral`` (back at
rest). Yaw follows ``FaceSignals``: positive = face turned to the subject's left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smilepay.vision.liveness.types import Action
from smilepay.vision.types import FaceSignals


@dataclass(frozen=True)
class ActionThresholds:
    """Baseline-relative thresholds: ``active`` to count the action, ``neutral`` for rest."""

    active: float
    neutral: float


DEFAULT_THRESHOLDS: dict[Action, ActionThresholds] = {
    Action.SMILE: ActionThresholds(active=0.35, neutral=0.15),
    Action.BLINK: ActionThresholds(active=0.30, neutral=0.12),
    Action.OPEN_MOUTH: ActionThresholds(active=0.40, neutral=0.15),
    Action.TURN_LEFT: ActionThresholds(active=18.0, neutral=8.0),  # degrees
    Action.TURN_RIGHT: ActionThresholds(active=18.0, neutral=8.0),
}


def raw_activation(action: Action, signals: FaceSignals) -> float:
    """The signal an action moves (0..1 for expressions, degrees for turns)."""
    if action is Action.SMILE:
        return signals.smile
    if action is Action.BLINK:
        return min(signals.blink_left, signals.blink_right)  # both eyes close
    if action is Action.OPEN_MOUTH:
        return signals.mouth_open
    if action is Action.TURN_LEFT:
        return signals.yaw_deg
    return -signals.yaw_deg


@dataclass(frozen=True)
class Baseline:
    """The customer's resting value of every action's signal."""

    values: dict[Action, float]

    def activation(self, action: Action, signals: FaceSignals) -> float:
        return raw_activation(action, signals) - self.values[action]


def measure_baseline(signals: Sequence[FaceSignals]) -> Baseline:
    """Median of every action's signal over the frames (the customer at rest most of the time)."""
    if not signals:
        return Baseline({a: 0.0 for a in Action})
    values = {a: float(np.median([raw_activation(a, s) for s in signals])) for a in Action}
    # A turn's baseline is the resting yaw; both directions share it.
    values[Action.TURN_RIGHT] = -values[Action.TURN_LEFT]
    return Baseline(values)
