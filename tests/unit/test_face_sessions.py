"""A frame session as the shared store keeps it: JSON numbers and strings only, every field
back as it was (per-frame lead vectors at float16, the best frames' vectors exactly)."""

from __future__ import annotations

import json

import numpy as np

from smilepay.domain.tenants import Scope
from smilepay.ports.sessions import MAX_SESSION_BYTES, encode_session
from smilepay.services.face_sessions import FrameSession, session_from_json, session_to_json
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    FrameEvidence,
    FrameObservation,
    TerminalCapability,
)
from smilepay.vision.types import FaceSignals


def _session() -> FrameSession:
    rng = np.random.default_rng(7)
    lead = rng.standard_normal(128).astype(np.float32)
    full = rng.standard_normal(640).astype(np.float32)
    signals = FaceSignals(0.8, 0.1, 0.2, 0.05, -3.5, 2.25, 0.5)
    evidence = [
        FrameEvidence(FrameObservation(1000, signals, lead), 0.7, None, ("passive:low",)),
        FrameEvidence(FrameObservation(1100, None, None), None, 0.4),
    ]
    return FrameSession(
        "chl_abc", Scope("ten_1", True), "pay", "pi_1",
        Challenge("pi_1:ff", (Action.SMILE, Action.TURN_LEFT), 900, 6000, 14_900),
        capability=TerminalCapability.RGB_DEPTH, owner="terminal:trm_1", needs_full_phone=True,
        observations=[e.observation for e in evidence], evidence=evidence,
        best=[(1.25, full)], good_frames=1, frames_seen=2, model_id="fusion_fast",
        last_state="passed", outcome={"code": "passed", "reasons": [], "layers": {"x": 0.5}},
        smile_max=0.8, steps_done=2, used=True)


def test_a_session_survives_the_store_round_trip() -> None:
    before = _session()
    text = encode_session(session_to_json(before))  # refuses bytes: numbers and strings only
    after = session_from_json(json.loads(text))
    assert (after.challenge_id, after.scope, after.purpose, after.subject_id) == (
        "chl_abc", Scope("ten_1", True), "pay", "pi_1")
    assert after.challenge == before.challenge
    assert after.capability is TerminalCapability.RGB_DEPTH
    assert (after.owner, after.needs_full_phone) == ("terminal:trm_1", True)
    assert (after.good_frames, after.frames_seen, after.model_id, after.last_state,
            after.smile_max, after.steps_done, after.used) == (1, 2, "fusion_fast", "passed",
                                                                0.8, 2, True)
    assert after.outcome == before.outcome
    assert after.best[0][0] == 1.25
    assert np.array_equal(after.best[0][1], before.best[0][1])
    first, second = after.evidence
    assert first.observation.signals == before.evidence[0].observation.signals
    assert first.observation.embedding is not None
    assert np.allclose(first.observation.embedding, before.evidence[0].observation.embedding,
                       rtol=1e-3, atol=1e-3)
    assert (first.passive_score, first.depth_score, first.reasons) == (0.7, None,
                                                                       ("passive:low",))
    assert second.observation == FrameObservation(1100, None, None)
    assert second.depth_score == 0.4
    assert [o.timestamp_ms for o in after.observations] == [1000, 1100]


def test_no_pixels_fit_in_a_session() -> None:
    session = _session()
    payload = session_to_json(session)
    assert all(not isinstance(v, bytes | bytearray | np.ndarray) for v in payload.values())
    assert "image" not in json.dumps(payload)


def test_the_longest_challenge_at_twenty_frames_a_second_fits_the_store() -> None:
    """5 random steps of 5 s plus 2 s of slack (the RGB policy), every frame usable: a kiosk
    must never be refused mid-challenge because its session grew too big."""
    rng = np.random.default_rng(3)
    signals = FaceSignals(0.8, 0.1, 0.2, 0.05, -3.5, 2.25, 0.5)
    frames = (5 * 5000 + 2000) * 20 // 1000
    evidence = [FrameEvidence(FrameObservation(1000 + 50 * i, signals,
                                               rng.standard_normal(512).astype(np.float32)),
                              0.5, None) for i in range(frames)]
    session = _session()
    session.evidence = evidence
    session.observations = [e.observation for e in evidence]
    session.best = [(1.0, rng.standard_normal(704).astype(np.float32)) for _ in range(3)]
    text = encode_session(session_to_json(session))
    assert MAX_SESSION_BYTES // 2 < len(text) <= MAX_SESSION_BYTES
