"""Challenges of the face flows: draw one bound to a subject and an owner, the verifier's
settings for the policy, and the warm-up that runs every model once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from smilepay.domain.ids import new_id
from smilepay.domain.tenants import Scope
from smilepay.ports.identity import StoredChallenge
from smilepay.services.face_context import FaceContext
from smilepay.services.face_policy import FacePolicy
from smilepay.services.face_sessions import FrameSession
from smilepay.vision.liveness.actions import DEFAULT_THRESHOLDS
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    LivenessFrame,
    TerminalCapability,
)
from smilepay.vision.liveness.verify import VerifierSettings

WARM_SCOPES = 20  # tenant spaces a warm-up computes rotations for (the most templates first)


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


def warm_up(ctx: FaceContext, scopes: Sequence[Scope] = ()) -> None:
    """Run every model once on a dummy face, so the first customer frame is not seconds slow;
    and compute the tenant rotations of the first ``WARM_SCOPES`` of ``scopes`` for the vector
    sizes the strategy makes (two QR decompositions, about 0.2 s each, otherwise paid by a
    tenant's first frame after a start; ``open_challenge`` does it for any other tenant)."""
    import numpy as np

    from smilepay.vision.align import ARCFACE_TEMPLATE_112
    from smilepay.vision.types import Face

    image = np.full((480, 640, 3), 127, np.uint8)
    landmarks = (ARCFACE_TEMPLATE_112 * 2 + np.array([208.0, 128.0])).astype(np.float32)
    face = Face((240.0, 150.0, 400.0, 350.0), landmarks, 0.99)
    pipeline = ctx.pipeline
    dims: set[int] = set()
    if pipeline.embedder is not None:
        dims.add(int(pipeline.embedder.embed_face(image, landmarks).shape[0]))
        members = getattr(pipeline.embedder, "embed_members", None)
        if members is not None:  # a fused strategy: its lead member's vectors too
            dims.add(int(members(image, landmarks, 1)[0].shape[0]))
    if pipeline.analyzer is not None:
        pipeline.analyzer.analyze(image)
    pipeline.find_faces(image)
    ctx.liveness.examine_frame(LivenessFrame(0, image, face, None, None))
    ctx.vector_sizes |= dims
    for scope in scopes[:WARM_SCOPES]:
        ctx.prepare_rotations(scope)


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
    ctx.prepare_rotations(scope)  # before the frames, not on the first one
    ctx.identity.add_challenge(StoredChallenge(
        challenge_id, scope, purpose, subject_id, terminal_id, nonce,
        tuple(a.value for a in challenge.steps), challenge.issued_at_ms,
        challenge.expires_at_ms, "open", None))
    session = FrameSession(challenge_id, scope, purpose, subject_id, challenge,
                           capability=capability, owner=owner)
    ctx.sessions.put(session)
    return session


