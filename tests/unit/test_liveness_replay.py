"""Replays of a recorded timeline against random challenges (scripted, no video needed)."""

from __future__ import annotations

import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.challenge import replay_pass_chance
from smilepay.vision.liveness.replay import (
    merge_intervals,
    shift_timeline,
    simulate_replays,
    sweep_one_step,
)
from smilepay.vision.liveness.scripted import Cue, perform
from smilepay.vision.liveness.types import Action, ChallengePolicy

RECORDING = perform([Cue(Action.SMILE, 2000), Cue(Action.TURN_LEFT, 4500),
                     Cue(Action.OPEN_MOUTH, 7000), Cue(Action.TURN_RIGHT, 9500)],
                    0, 12_000, seed=21)


def test_shift_starts_playback_at_the_issue_time() -> None:
    shifted = shift_timeline(RECORDING, 3000, 1_000_000)
    assert shifted[0].timestamp_ms >= 1_000_000
    assert len(shifted) < len(RECORDING)


def test_a_recording_answers_a_one_step_challenge_only_just_before_its_action() -> None:
    smiles = sweep_one_step(RECORDING, Action.SMILE)
    spans = merge_intervals([t for t, _ in smiles], 50)
    assert len(spans) == 1 and spans[0][0] < 2000 <= spans[0][1] + 100
    assert merge_intervals([0, 50, 100, 400], 50) == [(0, 100), (400, 400)]


def test_replayed_recording_stays_under_the_stated_chance() -> None:
    for steps in (2, 3):
        policy = ChallengePolicy(steps=steps)
        stats = simulate_replays(RECORDING, policy, trials=400, seed=steps)
        assert stats.pass_rate <= replay_pass_chance(policy)
        assert sum(stats.passed_steps_histogram) == 400
        assert 0.0 <= stats.pass_rate <= stats.pass_rate_upper95 <= 1.0
    with pytest.raises(InvalidInput):
        simulate_replays([], ChallengePolicy(), trials=10)
