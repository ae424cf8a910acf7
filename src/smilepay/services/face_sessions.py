"""Frame sessions in the shared ``SessionStore`` (``ports.sessions``): any worker serves any
frame of a challenge.

A ``FrameSession`` keeps numbers only, never pixels: capture times, expression signals, the
per-frame identity vector of the strategy's lead member (float16: it only feeds cosine
continuity checks) and the full strategy embedding of the best frames (float32: the probe or
template), both already rotated into the tenant space. Each session lives ``session_ttl_s``
from its start; every write is compare-and-set on the store's version (``FrameSessions.update``)
so that frames posted to two workers at once never lose each other.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from smilepay.domain.templates import Vector
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, NotFound
from smilepay.ports.sessions import Json, SessionStore
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    FrameEvidence,
    FrameObservation,
    TerminalCapability,
)
from smilepay.vision.types import FaceSignals

KIND = "frames"
T = TypeVar("T")
UPDATE_ATTEMPTS = 50


@dataclass
class FrameSession:
    """What is kept of one challenge's frames: numbers only, never pixels."""

    challenge_id: str
    scope: Scope
    purpose: str
    subject_id: str
    challenge: Challenge
    capability: TerminalCapability = TerminalCapability.RGB  # chosen when the session opens
    owner: str = ""  # who opened it ("terminal:..", "key:..", "wallet:.."): only they may use it
    needs_full_phone: bool = False  # four digits were not enough for this match (security.md)
    observations: list[FrameObservation] = field(default_factory=list)
    evidence: list[FrameEvidence] = field(default_factory=list)
    best: list[tuple[float, Vector]] = field(default_factory=list)  # (quality, full vector),
    # the best good frames so far, best first, with the strategy's full embedding
    good_frames: int = 0  # frames with a face that passed the quality gate
    frames_seen: int = 0
    model_id: str | None = None  # of the vectors in ``best``
    last_state: str = "collecting"
    outcome: dict[str, Any] | None = None
    smile_max: float = 0.0
    steps_done: int = 0
    used: bool = False  # confirmed, completed or closed: no second use; a decided one still
    # answers late frames with its decision until it expires


def _vec(vector: Vector | None, dtype: Any) -> str | None:
    if vector is None:
        return None
    return base64.b64encode(np.asarray(vector, dtype).tobytes()).decode()


def _unvec(text: str | None, dtype: Any) -> Vector | None:
    if text is None:
        return None
    return np.frombuffer(base64.b64decode(text), dtype).astype(np.float32)


def _signals(s: FaceSignals | None) -> list[float] | None:
    return None if s is None else [s.smile, s.blink_left, s.blink_right, s.mouth_open,
                                   s.yaw_deg, s.pitch_deg, s.roll_deg]


def _evidence(e: FrameEvidence) -> Json:
    o = e.observation
    return {"t": o.timestamp_ms, "s": _signals(o.signals), "e": _vec(o.embedding, np.float16),
            "p": e.passive_score, "d": e.depth_score, "r": list(e.reasons)}


def _unevidence(j: Json) -> FrameEvidence:
    signals = None if j["s"] is None else FaceSignals(*(float(x) for x in j["s"]))
    observation = FrameObservation(int(j["t"]), signals, _unvec(j["e"], np.float16))
    return FrameEvidence(observation, j["p"], j["d"], tuple(j["r"]))


def session_to_json(s: FrameSession) -> Json:
    c = s.challenge
    return {
        "id": s.challenge_id, "tenant": s.scope.tenant_id, "live": s.scope.livemode,
        "purpose": s.purpose, "subject": s.subject_id, "owner": s.owner,
        "challenge": {"nonce": c.nonce, "steps": [a.value for a in c.steps],
                      "issued": c.issued_at_ms, "step_ms": c.step_timeout_ms,
                      "expires": c.expires_at_ms},
        "capability": s.capability.value, "full_phone": s.needs_full_phone,
        "evidence": [_evidence(e) for e in s.evidence],
        "best": [[q, _vec(v, np.float32)] for q, v in s.best],
        "good": s.good_frames, "seen": s.frames_seen, "model": s.model_id,
        "state": s.last_state, "outcome": s.outcome, "smile": s.smile_max,
        "steps_done": s.steps_done, "used": s.used,
    }


def session_from_json(j: Json) -> FrameSession:
    c = j["challenge"]
    evidence = [_unevidence(e) for e in j["evidence"]]
    return FrameSession(
        challenge_id=j["id"], scope=Scope(j["tenant"], bool(j["live"])), purpose=j["purpose"],
        subject_id=j["subject"],
        challenge=Challenge(c["nonce"], tuple(Action(a) for a in c["steps"]), c["issued"],
                            c["step_ms"], c["expires"]),
        capability=TerminalCapability(j["capability"]), owner=j["owner"],
        needs_full_phone=bool(j["full_phone"]),
        observations=[e.observation for e in evidence], evidence=evidence,
        best=[(float(q), v) for q, b in j["best"] if (v := _unvec(b, np.float32)) is not None],
        good_frames=int(j["good"]), frames_seen=int(j["seen"]), model_id=j["model"],
        last_state=j["state"], outcome=j["outcome"], smile_max=float(j["smile"]),
        steps_done=int(j["steps_done"]), used=bool(j.get("used", False)),
    )


def _unknown(challenge_id: str) -> NotFound:
    return NotFound(f"expected an open face session, got {challenge_id!r} "
                    "(expired or unknown: start again)", param="session")


class FrameSessions:
    """Frame sessions by challenge id, in the shared store, with a time to live."""

    def __init__(self, store: SessionStore, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    def put(self, session: FrameSession) -> None:
        self.store.put(KIND, session.challenge_id, session_to_json(session), self.ttl_s)

    def get(self, challenge_id: str, owner: str | None = None, *,
            decided_ok: bool = False) -> FrameSession:
        """The open session; with ``owner``, only the caller that opened it finds it (anyone
        else gets the same 404 as for an unknown id). A used session (``drop``) is gone, but
        with ``decided_ok`` a decided one is still found (late frames get its decision)."""
        found = self._read(challenge_id)
        if found is None or (owner is not None and found[0].owner != owner):
            raise _unknown(challenge_id)
        session = found[0]
        if session.used and not (decided_ok and session.outcome is not None):
            raise _unknown(challenge_id)
        return session

    def update(self, challenge_id: str, change: Callable[[FrameSession], T]) -> T:
        """Run ``change`` on the newest state and store it, atomically: when another worker
        wrote first, ``change`` runs again on its result (so it must only mutate the session
        it is given and keep side effects for after). Its return value."""
        for attempt in range(UPDATE_ATTEMPTS):
            found = self._read(challenge_id)
            if found is None:
                raise _unknown(challenge_id)
            session, version = found
            result = change(session)
            if self.store.replace(KIND, challenge_id, session_to_json(session),
                                  version) is not None:
                return result
            # another writer came first: back off a random moment so that a crowd spreads out
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** attempt)))
        raise Conflict(f"expected to record the frame within {UPDATE_ATTEMPTS} tries, got "
                       "other writers each time: send it again")

    def save(self, session: FrameSession) -> None:
        """Store fields changed outside ``update`` (e.g. ``needs_full_phone``) atomically."""
        full_phone = session.needs_full_phone

        def mark(fresh: FrameSession) -> None:
            fresh.needs_full_phone = full_phone

        self.update(session.challenge_id, mark)

    def drop(self, challenge_id: str) -> None:
        """Use the session up: it cannot be confirmed, completed or fed again; a decided one
        answers late frames with its decision until its time to live ends (on any worker)."""

        def use(fresh: FrameSession) -> None:
            fresh.used = True

        try:
            self.update(challenge_id, use)
        except NotFound:
            return

    def _read(self, challenge_id: str) -> tuple[FrameSession, int] | None:
        if not (3 <= len(challenge_id) <= 64) or not all(
                c.isalnum() or c in "_-" for c in challenge_id):
            return None  # never a stored key: the same 404 as an unknown one
        found = self.store.get(KIND, challenge_id)
        return None if found is None else (session_from_json(found.value), found.version)
