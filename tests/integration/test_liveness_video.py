"""The challenge on the two real videos: the webcam clip answers a smile; the replay does not
answer random challenges (goal: rejected at >= 99%)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from smilepay.vision.liveness.challenge import replay_pass_chance
from smilepay.vision.liveness.replay import observe_video, simulate_replays
from smilepay.vision.liveness.types import Action, Challenge, ChallengePolicy, FrameObservation
from smilepay.vision.liveness.verify import VerifierSettings, verify_challenge
from support import require

pytestmark = pytest.mark.integration
BONA_FIDE = Path("video/bona_fide/apfol_webcam_real.webm")
REPLAY = Path("video/replay_attack/apfol_phone_replay.webm")


@cache
def timeline(path: Path) -> tuple[FrameObservation, ...]:
    from smilepay.adapters.models.pipeline_factory import load_pipeline
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound

    pipeline = load_pipeline()

    def read_face(image):  # type: ignore[no-untyped-def]
        try:
            a = pipeline.analyze_frame(image)
        except (NoFaceFound, AmbiguousFaces):
            return None, None
        return a.signals, a.embedding.vector if a.embedding else None

    return tuple(observe_video(path, read_face))


def clip(data_dir: Path, rel: Path) -> tuple[FrameObservation, ...]:
    require((data_dir / rel).is_file(), f"video {rel}")
    try:
        return timeline(data_dir / rel)
    except Exception as exc:  # the face engine's models
        require(False, f"face engine models ({type(exc).__name__}: {exc})")
        raise


def test_bona_fide_clip_answers_a_smile_challenge(data_dir: Path) -> None:
    frames = clip(data_dir, BONA_FIDE)
    issued = 4000  # the customer is asked to smile about half a second before they do
    challenge = Challenge("pi_video", (Action.SMILE,), issued, 5000, issued + 7000)
    outcome = verify_challenge(challenge, [f for f in frames if f.timestamp_ms >= issued])
    assert outcome.passed, outcome.reasons
    step = outcome.steps[0]
    assert step.onset_ms is not None and step.release_ms is None  # answered at its peak
    assert 4300 <= step.peak_ms <= 4800  # type: ignore[operator]
    waiting = verify_challenge(challenge, [f for f in frames if f.timestamp_ms >= issued],
                               VerifierSettings(last_step_at_peak=False))
    assert waiting.passed, waiting.reasons
    assert waiting.steps[0].release_ms is not None  # relaxed about 1.2 s after the peak
    assert waiting.steps[0].release_ms - step.peak_ms > 1000  # type: ignore[operator]


def test_bona_fide_clip_does_not_answer_other_single_steps_at_that_moment(data_dir: Path) -> None:
    frames = clip(data_dir, BONA_FIDE)
    for action in (Action.OPEN_MOUTH, Action.BLINK):
        challenge = Challenge("pi_video", (action,), 4000, 5000, 11000)
        assert not verify_challenge(challenge, [f for f in frames if f.timestamp_ms >= 4000]).passed


@pytest.mark.parametrize("rel", [REPLAY, BONA_FIDE])
def test_recorded_sessions_fail_random_rgb_challenges(data_dir: Path, rel: Path) -> None:
    frames = list(clip(data_dir, rel))
    policy = ChallengePolicy(steps=5)
    stats = simulate_replays(frames, policy, trials=400, seed=7)
    assert stats.pass_rate <= replay_pass_chance(policy) + 0.01
    assert stats.pass_rate <= 0.01  # rejected at >= 99%
