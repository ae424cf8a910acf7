"""Guards of the face flows: who owns a session, how many may be open, how often sign-ups and
sessions may start, and how many wrong phone factors a payment, a terminal or a face may try.

Counts live in the database (``SqlFlowStore``), so several worker processes agree.
"""

from __future__ import annotations

from typing import Any

from smilepay.domain.mandates import RateLimited
from smilepay.domain.payments import PaymentIntent
from smilepay.domain.risk import factor_lock
from smilepay.domain.tenants import Scope
from smilepay.services.face_challenge import open_challenge
from smilepay.services.face_context import FaceContext, FrameSession
from smilepay.services.views import payment_view
from smilepay.vision.liveness.types import TerminalCapability


def terminal_payment_view(intent: PaymentIntent) -> dict[str, Any]:
    """A payment as a terminal may see it: no customer id (a terminal never needs one)."""
    return {**payment_view(intent), "customer": None}


def api_key_owner(terminal_id: str | None, key_id: str) -> str:
    """A terminal's sessions belong to the terminal (any of its keys); a secret key's to it."""
    return f"terminal:{terminal_id}" if terminal_id else f"key:{key_id}"


def wallet_owner(token_hash: str) -> str:
    return f"wallet:{token_hash[:32]}"


def take_or_refuse(fc: FaceContext, scope: Scope, kind: str, key: str, now_ms: int,
                   limits: tuple[tuple[int, int], ...], what: str) -> None:
    refused = fc.flow.take(scope, kind, key, now_ms, limits)
    if refused is not None:
        window_ms, most = refused
        raise RateLimited(f"expected at most {most} {what} in {window_ms // 1000} s, got more: "
                          "wait a little and try again", param=kind,
                          retry_after_s=window_ms // 1000)


def check_signup_rate(fc: FaceContext, scope: Scope, phone_digest: str, owner: str,
                      now_ms: int) -> None:
    """One more code for this number from this terminal, or ``RateLimited`` (SMS bombing)."""
    limits = fc.policy.rate_limits
    take_or_refuse(fc, scope, "signup_terminal", owner, now_ms, limits.signups_per_terminal,
                   "sign-up codes from one terminal")
    take_or_refuse(fc, scope, "signup_phone", phone_digest, now_ms, limits.signups_per_phone,
                   "sign-up codes to one phone number")


def open_owned_challenge(fc: FaceContext, scope: Scope, purpose: str, subject_id: str,
                         terminal_id: str | None, owner: str, now_ms: int,
                         capability: TerminalCapability) -> FrameSession:
    """A challenge bound to ``owner``. Opens are rate-limited per owner; an owner keeps at most
    ``open_sessions`` open (older ones are closed as ``superseded``; late ones ``expired``)."""
    limits = fc.policy.rate_limits
    by_wallet = owner.startswith("wallet:")
    take_or_refuse(fc, scope, "session_wallet" if by_wallet else "session_terminal", owner,
                   now_ms, limits.sessions_per_wallet if by_wallet
                   else limits.sessions_per_terminal, "face sessions")
    session = open_challenge(fc, scope, purpose, subject_id, terminal_id, now_ms, capability,
                             owner=owner)
    if terminal_id is not None or purpose == "enrol":
        closed = fc.flow.close_open_challenges(
            scope, session.challenge_id, terminal_id=terminal_id, purpose=purpose,
            subject_id=subject_id if purpose == "enrol" else None,
            keep=limits.open_sessions, now_ms=now_ms)
        for challenge_id in closed:
            fc.sessions.drop(challenge_id)
    return session


def factor_gate(fc: FaceContext, scope: Scope, payment_id: str, owner: str,
                face_key: str | None, now_ms: int) -> tuple[str | None, dict[str, Any]]:
    """Which count locks this phone-factor attempt (None: it may go ahead), and the counts."""
    limits = fc.policy.factor_limits
    seen = fc.flow.factor_failures(scope, payment_id, owner, face_key,
                                   now_ms - limits.window_s * 1000)
    counts = {"factor_failures_payment": seen.payment,
              "factor_failures_terminal": seen.terminal, "factor_failures_face": seen.face}
    return factor_lock(seen.payment, seen.terminal, seen.face, limits), counts
