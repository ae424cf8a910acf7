"""The port end to end on synthetic frames: per terminal capability, with reasons."""

from __future__ import annotations

import numpy as np

from smilepay.ports.liveness import LivenessCheck
from smilepay.vision.liveness.fusion import (
    DEPTH_CALIBRATION,
    LayerCalibration,
    LivenessPolicy,
    calibrate_layer,
    default_policies,
)
from smilepay.vision.liveness.layered import LayeredLivenessCheck
from smilepay.vision.liveness.scripted import answer, perform
from smilepay.vision.liveness.synthetic_depth import make_scene
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    ChallengePolicy,
    Decision,
    FrameObservation,
    LivenessFrame,
    LivenessVerdict,
    TerminalCapability,
)
from smilepay.vision.types import Face, Image

T0 = 5_000_000
RGB, DEPTH = TerminalCapability.RGB, TerminalCapability.RGB_DEPTH


class ConstantScorer:
    """A fake passive scorer (a port fake, not the thing under test)."""

    def __init__(self, value: float) -> None:
        self.name, self.value = "constant", value

    def score(self, image: Image, face: Face | None) -> float:
        return self.value


def frames_for(observed: list[FrameObservation], depth_kind: str | None) -> list[LivenessFrame]:
    out = []
    for i, obs in enumerate(observed):
        scene = make_scene(depth_kind, i) if depth_kind and i % 10 == 0 else None
        image = np.zeros((480, 640, 3), np.uint8)
        face = scene.face if scene else Face((250, 150, 390, 330), np.zeros((5, 2), np.float32), 1)
        out.append(LivenessFrame(obs.timestamp_ms, image, face, obs.signals, obs.embedding,
                                 scene.depth_mm if scene else None))
    return out


def run(check: LayeredLivenessCheck, capability: TerminalCapability,
        depth_kind: str | None) -> LivenessVerdict:
    challenge = check.issue_challenge("pi_123", capability, T0)
    observed = perform(answer(challenge.steps, T0), T0, challenge.expires_at_ms - T0 - 1, seed=11)
    evidence = [check.examine_frame(f) for f in frames_for(observed, depth_kind)]
    return check.decide(challenge, evidence, capability)


def test_layered_check_is_the_liveness_port() -> None:
    check: LivenessCheck = LayeredLivenessCheck()  # structural: mypy checks the Protocol
    challenge = check.issue_challenge("enr_1", DEPTH, T0)
    assert challenge.nonce == "enr_1" and len(challenge.steps) == 3


def test_policies_per_capability() -> None:
    policies = default_policies()
    assert policies[RGB].challenge.steps == 5 and policies[RGB].depth is None
    assert policies[DEPTH].challenge.steps == 3 and policies[DEPTH].depth is DEPTH_CALIBRATION


def test_rgb_terminal_live_customer_passes() -> None:
    verdict = run(LayeredLivenessCheck(), RGB, None)
    assert verdict.decision is Decision.LIVE and verdict.is_live
    assert verdict.score >= 0.5 and verdict.reasons == ()


def test_wrong_order_is_an_attack_with_a_reason() -> None:
    check = LayeredLivenessCheck()
    steps = (Action.SMILE, Action.TURN_LEFT, Action.OPEN_MOUTH)
    challenge = Challenge("pi_9", steps, T0, 5000, T0 + 17_000)
    observed = perform(answer((Action.TURN_LEFT, Action.SMILE, Action.OPEN_MOUTH), T0), T0,
                       16_000, seed=3)
    evidence = [check.examine_frame(f) for f in frames_for(observed, None)]
    verdict = check.decide(challenge, evidence, RGB)
    assert verdict.decision is Decision.ATTACK
    assert "challenge:unexpected_turn_left" in verdict.reasons


def test_depth_terminal_passes_a_face_and_refuses_a_bent_photo() -> None:
    check = LayeredLivenessCheck()
    assert run(check, DEPTH, "face").is_live
    verdict = run(check, DEPTH, "bent")
    assert not verdict.is_live
    assert "depth:flat_or_bent_surface" in verdict.reasons
    assert verdict.layer_scores["challenge"] == 1.0 and verdict.layer_scores["depth"] < 0.5


def test_depth_terminal_without_depth_frames_is_refused() -> None:
    verdict = run(LayeredLivenessCheck(), DEPTH, None)
    assert "depth:too_few_frames" in verdict.reasons


def test_passive_is_advisory_unless_the_policy_gates_on_it() -> None:
    low = ConstantScorer(0.1)
    advisory = run(LayeredLivenessCheck([low]), RGB, None)
    assert advisory.is_live and advisory.layer_scores["passive (advisory)"] < 0.5
    gating = {RGB: LivenessPolicy(RGB, ChallengePolicy(steps=2), passive_gates=True)}
    verdict = run(LayeredLivenessCheck([low], gating), RGB, None)
    assert not verdict.is_live and "passive:attack_like_texture" in verdict.reasons


def test_calibration_puts_the_threshold_at_one_half() -> None:
    rng = np.random.default_rng(0)
    attack, bona = rng.normal(0, 1, 500), rng.normal(4, 1, 500)
    cal = calibrate_layer(attack.tolist(), bona.tolist(), 0.01, "test")
    assert np.mean(attack >= cal.threshold) <= 0.01
    assert cal.calibrate(cal.threshold) == 0.5
    assert cal.calibrate(cal.threshold + 3 * cal.scale) > 0.9
    assert LayerCalibration(7.0, 1.5).calibrate(-1e9) < 1e-9
