"""Frames of a challenge: analyse each frame, fold it into the shared session, decide once.

A frame is decoded, analysed (paying face, quality, signals) and dropped; what is kept is a
``FrameEvidence``, for near-frontal good frames the lead member's embedding (identity
continuity), and for the best of them the strategy's full embedding (the probe or template),
rotated into the tenant space. The challenge is re-verified on every frame and decided once:
passed, or failed when the verifier reports a final reason or the deadline passes.

The costly part (models) runs once per frame, outside the session; folding its numbers into
the session is a compare-and-set on the shared store (``FrameSessions.update``), re-run on the
newest state when a frame of the same session landed on another worker meanwhile. The
decision is recorded (challenge row, audit) after the write that made it, once.

A session opened with capability ``rgb_depth`` (a terminal with a 3D camera) takes a 16-bit
PNG depth map with every colour frame (docs/depth-format.md) and must also pass the depth
relief check; a frame without one is refused, never judged as RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from smilepay.errors import InvalidInput, NotFound
from smilepay.services.face_challenge import open_challenge, verifier_settings, warm_up
from smilepay.services.face_context import FaceContext, FrameSession, liveness_values
from smilepay.services.face_feedback import (
    PROMPTS,
    FrameFeedback,
    feedback,
    quality_code,
    quality_score,
    read_depth,
)
from smilepay.vision.errors import AmbiguousFaces, ImageError, NoFaceFound
from smilepay.vision.liveness.types import FrameEvidence, LivenessFrame, TerminalCapability
from smilepay.vision.types import Image

__all__ = ["MAX_FRAME_BYTES", "PROMPTS", "FrameFeedback", "add_frame", "open_challenge",
           "verifier_settings", "warm_up"]

MAX_FRAME_BYTES = 2_000_000
WAITING = ("_not_done", "_no_neutral_onset", "_not_released")  # a step still in progress
IDENTITY_MAX_POSE_DEG = 20.0  # embeddings compared across frames only this close to frontal
NOT_YET = frozenset({"no_face", "no_frames", "no_embedding"})  # nothing usable seen so far
DEPTH_NOT_YET = "depth:too_few_frames"  # more depth frames may still come


@dataclass
class _Analysed:
    """One frame after the models ran: what every attempt to fold it in needs (no session
    state), plus the two costly results computed at most once, on demand."""

    code: str
    image: Image | None = None  # None: a broken picture
    frame: LivenessFrame | None = None
    evidence: FrameEvidence | None = None
    analysis: Any = None
    quality_passed: bool = False
    smile: float = 0.0
    score: float | None = None  # ranking among the best frames; None: not usable
    full: Any = None
    passive: dict[str, float | None] = field(default_factory=dict)


def add_frame(ctx: FaceContext, session: FrameSession, jpeg: bytes, captured_at_ms: int,
              now_ms: int, depth_png: bytes | None = None) -> FrameFeedback:
    """Analyse one frame (and, on ``rgb_depth`` sessions, its depth map), fold it into the
    stored session and re-verify its challenge; ``session`` is refreshed to the stored state."""
    if session.outcome is not None:
        return feedback(session, session.last_state, session.outcome.get("code", "passed"))
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
    analysed = _analyse(ctx, session, jpeg, captured_at_ms, depth_png)
    last: dict[str, tuple[FrameSession, bool]] = {}

    def fold(fresh: FrameSession) -> FrameFeedback:
        was_open = fresh.outcome is None
        answer = _fold(ctx, fresh, analysed, now_ms)
        last["session"] = (fresh, was_open and fresh.outcome is not None)
        return answer

    answer = ctx.sessions.update(session.challenge_id, fold)
    fresh, decided_now = last["session"]
    if decided_now:
        _record_decision(ctx, fresh, now_ms)
    vars(session).update(vars(fresh))
    return answer


def _analyse(ctx: FaceContext, session: FrameSession, jpeg: bytes, captured_at_ms: int,
             depth_png: bytes | None) -> _Analysed:
    from smilepay.vision.decode import decode_frame

    try:
        image = decode_frame(jpeg)
    except ImageError:
        return _Analysed("bad_image")
    depth = read_depth(depth_png, image.shape[:2]) if depth_png is not None else None
    found = _Analysed("prompt", image)
    try:
        analysis = ctx.pipeline.analyze_frame(image, embed=False)
    except (NoFaceFound, AmbiguousFaces) as exc:
        found.frame = LivenessFrame(captured_at_ms, image, None, None, None, depth)
        found.code = "no_face" if isinstance(exc, NoFaceFound) else "two_faces"
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
                found.score = quality_score(q.face_px, q.sharpness, q.yaw_deg)
        found.frame = LivenessFrame(captured_at_ms, image, analysis.face, analysis.signals,
                                    usable, depth)
        found.analysis, found.quality_passed = analysis, q.passed
        found.smile = analysis.signals.smile if analysis.signals is not None else 0.0
        if not q.passed:
            found.code = quality_code(q.reasons)
    liveness = ctx.liveness
    found.evidence = liveness.examine_frame(
        found.frame, passive=liveness.passive_gates(session.capability))
    return found


def _fold(ctx: FaceContext, session: FrameSession, a: _Analysed, now_ms: int) -> FrameFeedback:
    """Fold an analysed frame into the newest state of its session (no I/O but the store)."""
    if session.outcome is not None:
        return feedback(session, session.last_state, session.outcome.get("code", "passed"))
    if session.used:  # closed undecided (e.g. a newer session replaced it) meanwhile
        raise NotFound(f"expected an open face session, got {session.challenge_id!r} "
                       "(expired or unknown: start again)", param="session")
    session.frames_seen += 1
    if a.frame is None or a.evidence is None:
        return _decide(ctx, session, a, "bad_image", now_ms)
    evidence, frame = a.evidence, a.frame
    if session.observations and frame.timestamp_ms <= session.observations[-1].timestamp_ms:
        at = session.observations[-1].timestamp_ms + 1  # frames keep their order
        frame = replace(frame, timestamp_ms=at)
        evidence = replace(evidence, observation=replace(evidence.observation, timestamp_ms=at))
    _observe(ctx, session, evidence)
    if a.analysis is not None:
        session.smile_max = max(session.smile_max, a.smile)
        if a.quality_passed:
            session.good_frames += 1
        if a.score is not None:
            _keep_if_best(ctx, session, a, a.score)
    return _decide(ctx, session, a, a.code, now_ms, frame)


def _keep_if_best(ctx: FaceContext, session: FrameSession, a: _Analysed, score: float) -> None:
    """Complete the strategy's embedding of a frame that ranks among the best so far.

    Frames are embedded with the strategy's lead member only (enough for continuity); the
    identity decision uses the full embedding of the best frames, which is computed here, once
    per frame that enters that ranking, so that no pixels wait for the decision."""
    keep = max(ctx.policy.probe_frames, ctx.policy.enrol_templates_from, 1)
    if len(session.best) >= keep and score <= session.best[-1][0]:
        return
    if a.full is None:
        pipeline = ctx.pipeline
        full = a.analysis.embedding
        if full is None or full.model_id != pipeline.model_id:
            full = pipeline.complete_embedding(a.image, a.analysis)
        a.full = full
    session.model_id = a.full.model_id
    session.best.append((score, ctx.rotate(session.scope, a.full.vector)))
    session.best.sort(key=lambda b: -b[0])
    del session.best[keep:]


def _observe(ctx: FaceContext, session: FrameSession, evidence: FrameEvidence) -> None:
    """Keep the frame's evidence (numbers).

    Before the first step is answered, a gap longer than the verifier allows (a slow first
    frame, a network stall) restarts the observation window instead of failing the check;
    after it, a gap fails as the verifier says. The advisory passive layer is scored at
    analysis only where it gates; otherwise once, on the frame that decides (``_decide``).
    """
    at = evidence.observation.timestamp_ms
    last = session.observations[-1].timestamp_ms if session.observations else None
    if (last is not None and session.steps_done == 0
            and at - last > verifier_settings(ctx.policy).max_gap_ms):
        session.observations.clear()
        session.evidence.clear()
    session.evidence.append(evidence)
    session.observations.append(evidence.observation)


def _decide(ctx: FaceContext, session: FrameSession, a: _Analysed, code: str, now_ms: int,
            frame: LivenessFrame | None = None) -> FrameFeedback:
    challenge = session.challenge
    faces = [o for o in session.observations if o.signals is not None]
    if not faces:
        if now_ms > challenge.expires_at_ms:
            return _finish(session, "failed", "expired", ("no_face",), {})
        return feedback(session, "collecting", code)
    verdict = ctx.liveness.decide(challenge, session.evidence, session.capability)
    outcome = verdict.challenge  # verified once, inside the port
    session.steps_done = sum(1 for s in outcome.steps if s.passed)
    reasons = tuple(r.removeprefix("challenge:") for r in verdict.reasons)
    # depth is judged once the challenge is answered: until then its median may still move
    final = [r for r in reasons if not r.endswith(WAITING) and r not in NOT_YET
             and r != DEPTH_NOT_YET and (outcome.passed or not r.startswith("depth:"))]
    passed = verdict.is_live and bool(session.best)
    if passed or final:
        verdict = _with_passive_score(ctx, session, a, frame, verdict)
    layers = {k: round(v, 3) for k, v in verdict.layer_scores.items()}
    if passed:
        return _finish(session, "passed", "passed", verdict.reasons, layers,
                       outcome.min_identity_cosine)
    if final:
        return _finish(session, "failed", "challenge_failed", reasons, layers,
                       outcome.min_identity_cosine)
    if now_ms > challenge.expires_at_ms:
        return _finish(session, "failed", "expired", reasons or ("expired",), layers)
    return feedback(session, "collecting", code)


def _with_passive_score(ctx: FaceContext, session: FrameSession, a: _Analysed,
                        frame: LivenessFrame | None, verdict: Any) -> Any:
    """The verdict with the advisory passive score of the deciding frame in its layers.

    Where the passive layer gates it scored every frame already; where it is advisory (the
    default: it measured no signal across sources, docs/liveness.md) one frame is enough for
    the audit and saves its cost (about 10 ms) on every other frame."""
    liveness = ctx.liveness
    if (frame is None or frame.face is None or not session.evidence
            or liveness.passive_gates(session.capability)
            or session.evidence[-1].observation.timestamp_ms != frame.timestamp_ms):
        return verdict
    if "score" not in a.passive:
        a.passive["score"] = liveness.score_passive(frame)
    score = a.passive["score"]
    if score is None:
        return verdict
    session.evidence[-1] = replace(session.evidence[-1], passive_score=score)
    return liveness.decide(session.challenge, session.evidence, session.capability)


def _finish(session: FrameSession, state: str, code: str, reasons: tuple[str, ...],
            layers: dict[str, float], min_cosine: float | None = None) -> FrameFeedback:
    session.outcome = {"code": code, "reasons": list(reasons), "frames": session.frames_seen,
                       "good_frames": session.good_frames, "min_identity_cosine": min_cosine,
                       "layers": layers}
    session.last_state = state
    return feedback(session, state, code, reasons)


def _record_decision(ctx: FaceContext, session: FrameSession, now_ms: int) -> None:
    """The challenge row and the audit entry of a decision: called by the one worker whose
    compare-and-set write decided the session."""
    outcome = session.outcome or {}
    code, reasons = str(outcome.get("code", "")), tuple(outcome.get("reasons", ()))
    min_cosine = outcome.get("min_identity_cosine")
    ctx.identity.finish_challenge(session.scope, session.challenge_id, session.last_state,
                                  outcome)
    ctx.audit(session.scope, f"liveness_{session.purpose}", session.last_state,
              (code, *reasons), session.subject_id, now_ms,
              {"challenge": session.challenge_id, "frames": session.frames_seen,
               "good_frames": session.good_frames,
               "steps": ",".join(a.value for a in session.challenge.steps),
               "capability": session.capability.value,
               "min_identity_cosine": None if min_cosine is None else round(min_cosine, 4),
               **liveness_values(session)})
