"""The challenge: random, bound to a nonce, answered only in order, in time, by one face."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.challenge import (
    count_sequences,
    draw_challenge,
    possible_sequences,
    replay_pass_chance,
)
from smilepay.vision.liveness.scripted import Cue, answer, perform
from smilepay.vision.liveness.types import Action, Challenge, ChallengePolicy
from smilepay.vision.liveness.verify import VerifierSettings, verify_challenge

POLICY = ChallengePolicy(steps=3)
T0 = 1_000_000


def fixed(*steps: Action) -> Challenge:
    return Challenge("pi_test", steps, T0, 5000, T0 + len(steps) * 5000 + 2000)


def test_challenges_are_random_and_never_repeat_an_action_back_to_back() -> None:
    drawn = {draw_challenge(POLICY, "pi_1", T0).steps for _ in range(300)}
    assert len(drawn) > 40  # 80 possible sequences
    assert all(a != b for seq in drawn for a, b in itertools.pairwise(seq))


def test_challenge_is_bound_to_its_nonce_and_deadline() -> None:
    c = draw_challenge(POLICY, "pay_42", T0)
    assert c.nonce == "pay_42"
    assert c.expires_at_ms == T0 + 3 * POLICY.step_timeout_ms + POLICY.slack_ms
    with pytest.raises(InvalidInput):
        draw_challenge(POLICY, "", T0)


def test_sequence_count_matches_enumeration() -> None:
    for steps in (1, 2, 3, 4):
        for repeats in (False, True):
            policy = ChallengePolicy(steps=steps, allow_repeats=repeats)
            assert count_sequences(policy) == len(list(possible_sequences(policy)))


def test_replay_chance_of_the_shipped_rgb_policy_is_below_one_percent() -> None:
    # 5 actions, 5 steps, no back-to-back repeats: 1280 sequences; blinks are free to a
    # recording, so the best recording answers 6 of them.
    policy = ChallengePolicy(steps=5)
    assert count_sequences(policy) == 1280
    assert replay_pass_chance(policy) == pytest.approx(6 / 1280)
    assert replay_pass_chance(ChallengePolicy(steps=3)) == pytest.approx(3 / 80)


def test_a_cooperative_customer_answers_random_challenges() -> None:
    passed = 0
    for seed in range(30):
        c = draw_challenge(ChallengePolicy(steps=5), "pi_1", T0)
        frames = perform(answer(c.steps, T0), T0, c.expires_at_ms - T0 - 1, seed=seed)
        outcome = verify_challenge(c, frames)
        passed += outcome.passed
    assert passed == 30


def test_a_recording_of_one_answer_fails_other_challenges() -> None:
    recorded = fixed(Action.SMILE, Action.TURN_LEFT, Action.OPEN_MOUTH)
    frames = perform(answer(recorded.steps, T0), T0, 16_000, seed=3)
    assert verify_challenge(recorded, frames).passed
    for other in [(Action.TURN_LEFT, Action.SMILE, Action.OPEN_MOUTH),
                  (Action.SMILE, Action.TURN_RIGHT, Action.OPEN_MOUTH),
                  (Action.OPEN_MOUTH, Action.SMILE, Action.TURN_LEFT)]:
        assert not verify_challenge(fixed(*other), frames).passed


def test_an_extra_deliberate_action_inside_a_step_fails_it() -> None:
    c = fixed(Action.SMILE, Action.TURN_LEFT)
    cues = [*answer(c.steps, T0), Cue(Action.OPEN_MOUTH, T0 + 700, 300)]
    outcome = verify_challenge(c, perform(cues, T0, 11_000, seed=1))
    assert not outcome.passed
    assert "unexpected_open_mouth" in outcome.reasons


def test_a_constant_expression_is_not_an_answer() -> None:
    c = fixed(Action.SMILE)
    held = [Cue(Action.SMILE, T0 - 2000, hold_ms=20_000)]  # smiling all along, never released
    outcome = verify_challenge(c, perform(held, T0, 7000, seed=2))
    assert not outcome.passed
    assert outcome.reasons[-1].startswith("smile_")


def test_late_answers_miss_the_deadline() -> None:
    c = fixed(Action.SMILE)
    late = [Cue(Action.SMILE, T0 + 5200)]
    assert not verify_challenge(c, perform(late, T0, 7000, seed=4)).passed


def test_frames_captured_before_the_challenge_are_refused() -> None:
    c = fixed(Action.SMILE)
    frames = perform(answer(c.steps, T0), T0 - 500, 6000, seed=5)
    assert "frame_before_challenge" in verify_challenge(c, frames).reasons


def test_timestamps_must_increase_and_have_no_long_gaps() -> None:
    c = fixed(Action.SMILE)
    frames = perform(answer(c.steps, T0), T0, 6000, seed=6)
    swapped = [frames[1], frames[0], *frames[2:]]
    assert "timestamps_not_increasing" in verify_challenge(c, swapped).reasons
    gappy = frames[:5] + frames[20:]
    assert "frame_gap" in verify_challenge(c, gappy).reasons


def test_a_face_swapped_mid_challenge_is_caught() -> None:
    c = fixed(Action.SMILE, Action.TURN_RIGHT)
    a = perform(answer(c.steps, T0), T0, 11_000, seed=7)
    b = perform(answer(c.steps, T0), T0, 11_000, seed=8)  # another identity, same timing
    cut = a[len(a) // 2 - 1].timestamp_ms
    spliced = a[: len(a) // 2] + [replace(f) for f in b if f.timestamp_ms > cut]
    outcome = verify_challenge(c, spliced)
    assert not outcome.passed
    assert "face_changed" in outcome.reasons
    assert outcome.min_identity_cosine is not None and outcome.min_identity_cosine < 0.4
    assert verify_challenge(c, a).min_identity_cosine > 0.8  # type: ignore[operator]


def test_no_frames_no_pass() -> None:
    assert verify_challenge(fixed(Action.BLINK), []).reasons == ("no_frames", "no_embedding",
                                                                 "blink_no_neutral_onset")


def test_the_last_step_is_answered_at_its_peak_without_waiting_for_the_release() -> None:
    c = fixed(Action.BLINK, Action.SMILE)
    cues = [Cue(Action.BLINK, T0 + 300), Cue(Action.SMILE, T0 + 2800, hold_ms=20_000)]
    frames = perform(cues, T0, 4000, seed=8)  # still smiling when the frames end
    outcome = verify_challenge(c, frames)
    assert outcome.passed, outcome.reasons
    first, last = outcome.steps
    assert first.release_ms is not None  # the next step's window opens at a release
    assert last.peak_ms is not None and last.release_ms is None
    waiting = verify_challenge(c, frames, VerifierSettings(last_step_at_peak=False))
    assert not waiting.passed and waiting.reasons[-1] == "smile_not_released"


def test_a_middle_step_still_needs_its_release() -> None:
    c = fixed(Action.SMILE, Action.TURN_LEFT)
    frames = perform([Cue(Action.SMILE, T0 + 3500, hold_ms=20_000)], T0, 6000, seed=9)
    outcome = verify_challenge(c, frames)
    assert not outcome.passed and outcome.reasons[-1] == "smile_not_released"
