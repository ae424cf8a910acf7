"""Frames of a challenge: draw the challenge, analyse each frame, say how the customer is doing.

A frame is decoded, analysed (paying face, quality, signals) and dropped; what is kept is a
``FrameObservation``, for near-frontal good frames the lead member's embedding (identity
continuity), and for the best of them the strategy's full embedding (the probe or template),
rotated into the tenant space. The challenge is re-verified on every frame and decided once:
passed, or failed when the verifier reports a final reason or the deadline passes.

A session opened with capability ``rgb_depth`` (a terminal with a 3D camera) takes a 16-bit
PNG depth map with every colour frame (docs/depth-format.md) and must also pass the depth
relief check; a frame without one is refused, never judged as RGB.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from smilepay.adapters.sql.identity_store import StoredChallenge
from smilepay.domain.ids import new_id
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.services.face_context import (
    FaceContext,
    FacePolicy,
    FrameSession,
    liveness_values,
)
from smilepay.services.kiosk_prompts import customer_prompt
from smilepay.vision.errors import AmbiguousFaces, ImageError, NoFaceFound
from smilepay.vision.liveness.actions import DEFAULT_THRESHOLDS
from smilepay.vision.liveness.errors import InvalidDepthMap
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    DepthMap,
    LivenessFrame,
    TerminalCapability,
)
from smilepay.vision.liveness.verify import VerifierSettings
from smilepay.vision.types import Image

MAX_FRAME_BYTES = 2_000_000
WAITING = ("_not_done", "_no_neutral_onset", "_not_released")  # a step still in progress
IDENTITY_MAX_POSE_DEG = 20.0  # embeddings compared across frames only this close to frontal
NOT_YET = frozenset({"no_face", "no_frames", "no_embedding"})  # nothing usable seen so far
DEPTH_NOT_YET = "depth:too_few_frames"  # more depth frames may still come
PROMPTS = {
    Action.SMILE: "Smile",
    Action.BLINK: "Blink",
    Action.TURN_LEFT: "Turn your head to your left",
    Action.TURN_RIGHT: "Turn your head to your right",
    Action.OPEN_MOUTH: "Open your mouth",
}
MESSAGES = {
    "no_face": "We can't see a face. Look at the camera.",
    "two_faces": "More than one face: only the person paying, please step forward.",
    "bad_image": "The camera sent a broken picture. Hold on.",
    "too_small": "Come a little closer to the camera.",
    "look_at_camera": "Look straight at the camera.",
    "too_dark": "It's too dark here: face the light.",
    "backlit": "There is bright light behind you: turn towards the light.",
    "too_bright": "Too much light on your face: step out of the glare.",
    "flat_light": "We can't make out your face: face the light.",
    "blurry": "Hold still for a moment.",
    "challenge_failed": "The check did not work. Please try again.",
    "expired": "Time is up. Please try again.",
    "passed": "Thank you!",
}


@dataclass(frozen=True)
class FrameFeedback:
    state: str  # "collecting" | "passed" | "failed"
    code: str  # what the kiosk shows: "prompt", "no_face", "two_faces", ... (MESSAGES)
    message: str
    step_index: int
    steps: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"state": self.state, "code": self.code, "message": self.message,
                "step_index": self.step_index, "steps": list(self.steps),
                "reasons": list(self.reasons)}


def parse_capability(value: str) -> TerminalCapability:
    """``rgb`` (colour frames only, e.g. a browser kiosk) or ``rgb_depth`` (a 3D camera)."""
    try:
        return TerminalCapability(value)
    except ValueError:
        allowed = ", ".join(repr(c.value) for c in TerminalCapability)
        raise InvalidInput(f"expected a capability in ({allowed}), got {value!r}",
                           param="capability") from None


def read_depth(png: bytes, frame_hw: tuple[int, int]) -> DepthMap:
    """The frame's depth map, or ``InvalidInput`` on the ``depth`` parameter."""
    from smilepay.vision.liveness.depth_png import decode_depth_png

    try:
        return decode_depth_png(png, frame_hw)
    except InvalidDepthMap as exc:
        raise InvalidInput(exc.message, param="depth") from exc


def verifier_settings(policy: FacePolicy) -> VerifierSettings:
    """A fixed-step terminal (e.g. smile only) checks only its own actions; gaps up to 1.2 s
    (a browser kiosk on a busy machine sends 4-8 frames a second, not 15).

    Identity across frames is judged on the strategy's lead member (``fr_feature`` for
    ``fusion_fast``), embedded on every usable frame. Consecutive good frames must stay above cosine
    0.40 and frontal ones above 0.30 against the first. Measured with lead vectors on the
    usable (quality-passed, within 20 degrees of frontal) frames of both webcam clips
    (2026-11-22, one-off script): the same man scored >= 0.62 between consecutive frames of
    the bona fide clip (0.54 through the phone replay) and >= 0.51 (0.38) against the first
    frontal frame; three other people (``smile_pairs``) scored <= 0.23 against every frame
    of him; fr_feature's calibration table puts 0.40 at a false-match rate of 1e-4 and 0.33
    at 1e-3 (fusion_fast: 0.44 and 0.36), so the thresholds set for fused vectors hold."""
    thresholds = dict(DEFAULT_THRESHOLDS)
    if policy.fixed_steps is not None:
        keep = set(policy.fixed_steps) | {Action.BLINK}
        thresholds = {a: t for a, t in thresholds.items() if a in keep}
    return VerifierSettings(thresholds=thresholds, max_gap_ms=1200, max_face_lost_ms=1500,
                            continuity_cosine=0.40)


def layered_liveness(policy: FacePolicy) -> Any:
    """The ``LivenessCheck`` port: challenge always; fr_liveness as an advisory passive layer."""
    from smilepay.vision.liveness.layered import LayeredLivenessCheck

    passive: list[Any] = []
    if policy.passive_liveness:
        from smilepay.adapters.liveness.fr_liveness import FrLivenessScorer

        passive.append(FrLivenessScorer())
    return LayeredLivenessCheck(passive=passive, verifier=verifier_settings(policy))


def warm_up(ctx: FaceContext) -> None:
    """Run every model once on a dummy face, so the first customer frame is not seconds slow."""
    import numpy as np

    from smilepay.vision.align import ARCFACE_TEMPLATE_112
    from smilepay.vision.types import Face

    image = np.full((480, 640, 3), 127, np.uint8)
    landmarks = (ARCFACE_TEMPLATE_112 * 2 + np.array([208.0, 128.0])).astype(np.float32)
    face = Face((240.0, 150.0, 400.0, 350.0), landmarks, 0.99)
    pipeline = ctx.pipeline
    if pipeline.embedder is not None:
        pipeline.embedder.embed_face(image, landmarks)
    if pipeline.analyzer is not None:
        pipeline.analyzer.analyze(image)
    pipeline.find_faces(image)
    ctx.liveness.examine_frame(LivenessFrame(0, image, face, None, None))


def open_challenge(ctx: FaceContext, scope: Scope, purpose: str, subject_id: str,
                   terminal_id: str | None, now_ms: int,
                   capability: TerminalCapability = TerminalCapability.RGB,
                   owner: str = "") -> FrameSession:
    """A fresh challenge bound to ``subject_id`` (payment intent or customer) and a nonce, and
    to the ``owner`` that opened it (only that caller may post frames or confirm it).

    A fixed-step policy (e.g. smile only) asks for its own steps on any terminal; otherwise
    the liveness policy of ``capability`` draws them (5 random steps on RGB, 3 with depth).
    """
    nonce = f"{subject_id}:{secrets.token_hex(8)}"
    policy = ctx.policy
    if policy.fixed_steps is not None:
        timeout = policy.step_timeout_ms
        challenge = Challenge(nonce, policy.fixed_steps, now_ms, timeout,
                              now_ms + timeout * len(policy.fixed_steps) + 2000)
    else:
        challenge = ctx.liveness.issue_challenge(nonce, capability, now_ms)
    challenge_id = new_id("chl", now_ms)
    ctx.identity.add_challenge(StoredChallenge(
        challenge_id, scope, purpose, subject_id, terminal_id, nonce,
        tuple(a.value for a in challenge.steps), challenge.issued_at_ms,
        challenge.expires_at_ms, "open", None))
    session = FrameSession(challenge_id, scope, purpose, subject_id, challenge,
                           capability=capability, owner=owner)
    ctx.sessions.put(session)
    return session


def quality_code(reasons: tuple[str, ...]) -> str:
    first = reasons[0] if reasons else ""
    for key, code in (("small", "too_small"), ("turned", "look_at_camera"),
                      ("tilted", "look_at_camera"), ("backlit", "backlit"), ("dark", "too_dark"),
                      ("bright", "too_bright"), ("blurred", "blurry"), ("flat", "flat_light")):
        if key in first:
            return code
    return "look_at_camera"


def quality_score(face_px: float, sharpness: float, yaw_deg: float) -> float:
    return min(face_px, 250.0) / 250.0 + min(sharpness, 300.0) / 300.0 - abs(yaw_deg) / 60.0


def add_frame(ctx: FaceContext, session: FrameSession, jpeg: bytes, captured_at_ms: int,
              now_ms: int, depth_png: bytes | None = None) -> FrameFeedback:
    """Analyse one frame (and, on ``rgb_depth`` sessions, its depth map) into ``session`` and
    re-verify its challenge."""
    if session.outcome is not None:
        return _feedback(session, session.last_state, session.outcome.get("code", "passed"))
    if len(jpeg) > MAX_FRAME_BYTES:
        raise InvalidInput(f"expected a frame of <= {MAX_FRAME_BYTES} bytes, got {len(jpeg)}")
    with_depth = session.capability is TerminalCapability.RGB_DEPTH
    if with_depth and depth_png is None:
        raise InvalidInput("expected a depth map with every frame of an rgb_depth session "
                           "(multipart parts 'frame' and 'depth'), got a colour frame only",
                           param="depth")
    if not with_depth and depth_png is not None:
        raise InvalidInput("expected a colour frame only (the session was opened with "
                           "capability 'rgb'), got a depth map too", param="depth")
    if abs(captured_at_ms - now_ms) > ctx.policy.max_clock_skew_ms:
        captured_at_ms = now_ms  # a terminal clock that is off: trust our own
    if session.observations and captured_at_ms <= session.observations[-1].timestamp_ms:
        captured_at_ms = session.observations[-1].timestamp_ms + 1
    code = "prompt"
    from smilepay.vision.decode import decode_frame

    try:
        image = decode_frame(jpeg)
    except ImageError:
        session.frames_seen += 1
        return _decide(ctx, session, "bad_image", now_ms)
    depth = read_depth(depth_png, image.shape[:2]) if depth_png is not None else None
    session.frames_seen += 1
    frame: LivenessFrame
    try:
        analysis = ctx.pipeline.analyze_frame(image, embed=False)
    except (NoFaceFound, AmbiguousFaces) as exc:
        frame = LivenessFrame(captured_at_ms, image, None, None, None, depth)
        _observe(ctx, session, frame)
        code = "no_face" if isinstance(exc, NoFaceFound) else "two_faces"
    else:
        # identity is judged, and the probe made, on near-frontal frames that pass the quality
        # gate (a head turned by 25 degrees scored cosine 0.29 against the same man facing the
        # camera): only those are embedded, with the strategy's lead member
        q = analysis.quality
        frontal = max(abs(q.yaw_deg), abs(q.pitch_deg)) <= IDENTITY_MAX_POSE_DEG
        usable = None
        if q.passed and frontal:
            analysis = ctx.pipeline.embed_lead(image, analysis)
            if analysis.embedding is not None:
                usable = ctx.rotate(session.scope, analysis.embedding.vector)
        frame = LivenessFrame(captured_at_ms, image, analysis.face, analysis.signals, usable,
                              depth)
        _observe(ctx, session, frame)
        smile = analysis.signals.smile if analysis.signals is not None else 0.0
        session.smile_max = max(session.smile_max, smile)
        if q.passed:
            session.good_frames += 1
        else:
            code = quality_code(q.reasons)
        if usable is not None:
            _keep_if_best(ctx, session, image, analysis,
                          quality_score(q.face_px, q.sharpness, q.yaw_deg))
    return _decide(ctx, session, code, now_ms, frame)


def _keep_if_best(ctx: FaceContext, session: FrameSession, image: Image, analysis: Any,
                  score: float) -> None:
    """Complete the strategy's embedding of a frame that ranks among the best so far.

    Frames are embedded with the strategy's lead member only (enough for continuity); the
    identity decision uses the full embedding of the best frames, which is computed here, once
    per frame that enters that ranking, so that no pixels wait for the decision."""
    keep = max(ctx.policy.probe_frames, ctx.policy.enrol_templates_from, 1)
    if len(session.best) >= keep and score <= session.best[-1][0]:
        return
    pipeline = ctx.pipeline
    full = analysis.embedding
    if full is None or full.model_id != pipeline.model_id:
        full = pipeline.complete_embedding(image, analysis)
    session.model_id = full.model_id
    session.best.append((score, ctx.rotate(session.scope, full.vector)))
    session.best.sort(key=lambda b: -b[0])
    del session.best[keep:]


def _observe(ctx: FaceContext, session: FrameSession, frame: LivenessFrame) -> None:
    """Keep the frame's evidence (numbers) and drop the frame.

    Before the first step is answered, a gap longer than the verifier allows (a slow first
    frame, a network stall) restarts the observation window instead of failing the check;
    after it, a gap fails as the verifier says. The advisory passive layer is scored here only
    where it gates; otherwise once, on the frame that decides (``_decide``).
    """
    last = session.observations[-1].timestamp_ms if session.observations else None
    if (last is not None and session.steps_done == 0
            and frame.timestamp_ms - last > verifier_settings(ctx.policy).max_gap_ms):
        session.observations.clear()
        session.evidence.clear()
    liveness = ctx.liveness
    evidence = liveness.examine_frame(
        frame, passive=liveness.passive_gates(session.capability))
    session.evidence.append(evidence)
    session.observations.append(evidence.observation)


def _decide(ctx: FaceContext, session: FrameSession, code: str, now_ms: int,
            frame: LivenessFrame | None = None) -> FrameFeedback:
    challenge = session.challenge
    faces = [o for o in session.observations if o.signals is not None]
    if not faces:
        if now_ms > challenge.expires_at_ms:
            return _finish(ctx, session, now_ms, "failed", "expired", ("no_face",), {})
        return _feedback(session, "collecting", code)
    verdict = ctx.liveness.decide(challenge, session.evidence, session.capability)
    outcome = verdict.challenge  # verified once, inside the port
    session.steps_done = sum(1 for s in outcome.steps if s.passed)
    reasons = tuple(r.removeprefix("challenge:") for r in verdict.reasons)
    # depth is judged once the challenge is answered: until then its median may still move
    final = [r for r in reasons if not r.endswith(WAITING) and r not in NOT_YET
             and r != DEPTH_NOT_YET and (outcome.passed or not r.startswith("depth:"))]
    passed = verdict.is_live and bool(session.best)
    if passed or final:
        verdict = _with_passive_score(ctx, session, frame, verdict)
    layers = {k: round(v, 3) for k, v in verdict.layer_scores.items()}
    if passed:
        return _finish(ctx, session, now_ms, "passed", "passed", verdict.reasons, layers,
                       outcome.min_identity_cosine)
    if final:
        return _finish(ctx, session, now_ms, "failed", "challenge_failed", reasons, layers,
                       outcome.min_identity_cosine)
    if now_ms > challenge.expires_at_ms:
        return _finish(ctx, session, now_ms, "failed", "expired", reasons or ("expired",),
                       layers)
    return _feedback(session, "collecting", code)


def _with_passive_score(ctx: FaceContext, session: FrameSession, frame: LivenessFrame | None,
                        verdict: Any) -> Any:
    """The verdict with the advisory passive score of the deciding frame in its layers.

    Where the passive layer gates it scored every frame already; where it is advisory (the
    default: it measured no signal across sources, docs/liveness.md) one frame is enough for
    the audit and saves its cost (about 10 ms) on every other frame."""
    liveness = ctx.liveness
    if (frame is None or frame.face is None or not session.evidence
            or liveness.passive_gates(session.capability)
            or session.evidence[-1].observation.timestamp_ms != frame.timestamp_ms):
        return verdict
    score = liveness.score_passive(frame)
    if score is None:
        return verdict
    session.evidence[-1] = replace(session.evidence[-1], passive_score=score)
    return liveness.decide(session.challenge, session.evidence, session.capability)


def _finish(ctx: FaceContext, session: FrameSession, now_ms: int, state: str, code: str,
            reasons: tuple[str, ...], layers: dict[str, float],
            min_cosine: float | None = None) -> FrameFeedback:
    outcome = {"code": code, "reasons": list(reasons), "frames": session.frames_seen,
               "good_frames": session.good_frames, "min_identity_cosine": min_cosine,
               "layers": layers}
    session.outcome = outcome
    session.last_state = state
    ctx.identity.finish_challenge(session.scope, session.challenge_id, state, outcome)
    ctx.audit(session.scope, f"liveness_{session.purpose}", state, (code, *reasons),
              session.subject_id, now_ms,
              {"challenge": session.challenge_id, "frames": session.frames_seen,
               "good_frames": session.good_frames,
               "steps": ",".join(a.value for a in session.challenge.steps),
               "capability": session.capability.value,
               "min_identity_cosine": None if min_cosine is None else round(min_cosine, 4),
               **liveness_values(session)})
    return _feedback(session, state, code, reasons)


def _feedback(session: FrameSession, state: str, code: str,
              reasons: tuple[str, ...] = ()) -> FrameFeedback:
    steps = session.challenge.steps
    done = len(steps) if state == "passed" else min(session.steps_done, len(steps) - 1)
    if code == "prompt":
        message = PROMPTS[steps[min(done, len(steps) - 1)]]
    elif state == "failed":  # one sentence for the first reason the prompt table knows
        message = customer_prompt(reasons, fallback=code)
    else:
        message = MESSAGES.get(code, code)
    return FrameFeedback(state, code, message, done, tuple(a.value for a in steps), reasons)
