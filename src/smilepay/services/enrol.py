"""Enrol: phone sign-up by one-time code, consent, frames with a challenge, one template.

Rules: no consent, no template; a face already enrolled on another account is refused; the
template is the quality-weighted mean of the best frames, rotated into the tenant space and
sealed with AES-GCM before it is stored; every decision is audited without pixels.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smilepay.domain.consent import ConsentRecord, grant_consent
from smilepay.domain.customers import Customer, mask_phone, normalize_phone
from smilepay.domain.events import Notification
from smilepay.domain.identity import (
    OTP_MAX_ATTEMPTS,
    FaceAlreadyEnrolled,
    OneTimeCodeRejected,
    code_matches,
    draw_code,
    issue_code,
    refusal_reason,
)
from smilepay.domain.ids import new_id
from smilepay.domain.templates import Vector, merge_embeddings, require_active_consent
from smilepay.domain.tenants import Scope, hash_api_key
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.money import MoneyTx
from smilepay.ports.notify import Contact
from smilepay.services.customers import create_customer, find_customer_by_phone
from smilepay.services.face_context import (
    FaceContext,
    liveness_values,
    now_utc,
    threshold_for,
)
from smilepay.services.face_feedback import parse_capability, quality_score
from smilepay.services.face_guard import check_signup_rate, open_owned_challenge
from smilepay.services.face_money import MoneySide

WALLET_SESSION_TTL_MS = 30 * 24 * 3600 * 1000
CODE_ERRORS = {"wrong_code": "a wrong code", "expired": "an expired code",
               "used": "a code already used", "too_many_attempts": "too many wrong tries"}


@dataclass(frozen=True)
class SignUp:
    code_id: str
    phone_masked: str
    test_code: str | None  # shown on the page and in the log in test mode only


def hash_token(token: str) -> str:
    """Wallet session tokens are stored hashed like API keys."""
    return hash_api_key(token)


def start_signup(fc: FaceContext, money: MoneySide, scope: Scope, phone: str,
                 now_ms: int, owner: str = "") -> SignUp:
    """Send a one-time code to ``phone`` (through the notifier), at most so many per number
    and per terminal ``owner`` (``RateLimited``: no SMS bombing)."""
    phone_e164 = normalize_phone(phone)
    phones = money.ctx.phones
    digest = phones.full_hmac(phone_e164, scope.tenant_id)
    check_signup_rate(fc, scope, digest, owner, now_ms)
    code = draw_code()
    record = issue_code(pepper=fc.pepper, code_id=new_id("otp", now_ms),
                        phone_digest=digest, code=code, now=now_utc(now_ms))
    fc.identity.add_code(scope, record, phones.encrypt(phone_e164, scope.tenant_id))
    test = not scope.livemode
    subject = f"SmilePay sign-up code {code} (test mode)" if test else "Your SmilePay code"
    notice = Notification(
        id=new_id("ntf", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        customer_id="", kind="signup_code", subject=subject,
        body=f"Your SmilePay sign-up code is {code}. It expires in 10 minutes.",
        created_at_ms=now_ms, delivered_at_ms=None,
    )
    money.notifier.send(notice, Contact(mask_phone(phone_e164), None))
    return SignUp(record.code_id, mask_phone(phone_e164), code if test else None)


@dataclass(frozen=True)
class WalletLogin:
    customer_id: str
    session_token: str
    created: bool


def verify_signup(fc: FaceContext, money: MoneySide, scope: Scope, code_id: str, code: str,
                  name: str, now_ms: int) -> WalletLogin:
    """Check the code; create the customer (or sign the known one in); open a wallet session."""
    found = fc.identity.get_code(scope, code_id)
    if found is None:
        raise OneTimeCodeRejected("expected a sign-up id from this terminal, got an unknown one",
                                  param="signup")
    record, phone_ciphertext = found
    # the try is counted, and the code used, by conditional updates in the database: parallel
    # tries cannot check more than the limit, and one code opens one wallet session
    reason = "ok"
    if not fc.flow.claim_code_attempt(scope, code_id, now_ms, OTP_MAX_ATTEMPTS):
        current = fc.identity.get_code(scope, code_id)  # as it is after the refused claim
        reason = refusal_reason(current[0] if current else record, now_utc(now_ms))
    elif not code_matches(record, pepper=fc.pepper, entered=code):
        reason = "wrong_code"
    elif not fc.flow.use_code(scope, code_id):
        reason = "used"
    fc.audit(scope, "signup_code", "accepted" if reason == "ok" else "refused",
             () if reason == "ok" else (reason,), None, now_ms, {"signup": code_id})
    if reason != "ok":
        raise OneTimeCodeRejected(f"expected the code sent to the phone, got {CODE_ERRORS[reason]}",
                                  reason=reason, param="code")
    phone = money.ctx.phones.decrypt(phone_ciphertext, scope.tenant_id)

    def work(tx: MoneyTx) -> tuple[Customer, bool]:
        known = find_customer_by_phone(tx, money.ctx, scope, phone)
        if known is not None:
            return known, False
        return create_customer(tx, money.ctx, scope, phone, name=name[:100]), True

    customer, created = money.store.run(work)
    token = "ws_" + secrets.token_urlsafe(32)
    fc.identity.add_wallet_session(scope, hash_token(token), customer.id, now_ms,
                                   now_ms + WALLET_SESSION_TTL_MS)
    return WalletLogin(customer.id, token, created)


def give_consent(fc: FaceContext, scope: Scope, customer_id: str, version: str, digest: str,
                 now_ms: int) -> ConsentRecord:
    existing = fc.identity.active_consent(scope, customer_id)
    if existing is not None and existing.version == version:
        return existing
    record = grant_consent(consent_id=new_id("fcon", now_ms), tenant_id=scope.tenant_id,
                           customer_id=customer_id, version=version, accepted_digest=digest,
                           now=now_utc(now_ms))
    fc.identity.add_consent(scope, record)
    fc.audit(scope, "consent", "granted", (), customer_id, now_ms,
             {"version": version, "digest": digest[:16]})
    return record


def start_enrolment(fc: FaceContext, scope: Scope, customer_id: str, now_ms: int,
                    capability: str = "rgb", owner: str = "") -> Any:
    """A challenge for the enrolment frames (no consent, no template: checked first), bound to
    the wallet session ``owner``; ``capability`` ``rgb_depth`` makes every frame carry a depth
    map (docs/depth-format.md). Opens are capped per wallet (``face_guard``)."""
    chosen = parse_capability(capability)
    require_active_consent(fc.identity.active_consent(scope, customer_id), customer_id)
    return open_owned_challenge(fc, scope, "enrol", customer_id, None, owner, now_ms, chosen)


def finish_enrolment(fc: FaceContext, scope: Scope, customer_id: str, challenge_id: str,
                     now_ms: int, owner: str | None = None) -> dict[str, Any]:
    session = fc.sessions.get(challenge_id, owner)
    if session.purpose != "enrol" or session.subject_id != customer_id or session.scope != scope:
        raise NotFound(f"expected an open face session, got {challenge_id!r} "
                       "(expired or unknown: start again)", param="session")
    outcome = session.outcome or {}
    if session.last_state != "passed":
        fc.audit(scope, "enrol", "refused", ("challenge_not_passed",), customer_id, now_ms,
                 {"frames": session.frames_seen, "good_frames": session.good_frames})
        raise InvalidInput("expected a passed enrolment challenge, got "
                           f"{session.last_state} ({', '.join(outcome.get('reasons', []))})",
                           param="session")
    best = session.best[: fc.policy.enrol_templates_from]  # best first, full embeddings
    if not best or session.model_id is None:
        raise InvalidInput("expected good frames of the face, got none", param="session")
    try:
        return store_template(fc, scope, customer_id, [g[1] for g in best],
                              [max(g[0], 0.05) for g in best], session.model_id, now_ms,
                              source="camera", extra={**liveness_values(session),
                                                      "challenge": challenge_id,
                                                      "capability": session.capability.value,
                                                      "steps": ",".join(a.value for a in
                                                                        session.challenge.steps)})
    finally:
        fc.sessions.drop(challenge_id)


def store_template(fc: FaceContext, scope: Scope, customer_id: str, rotated: Sequence[Vector],
                   weights: Sequence[float], model_id: str, now_ms: int, *, source: str,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge, refuse duplicates, seal, store, index; the summary (no vectors).

    The customer's old templates go, the duplicate check runs and the new template is stored
    and made searchable in one transaction (``Gallery.add_unless_duplicate``: writers
    serialise, so one face enrolled on two accounts at once through two workers cannot pass
    twice); a duplicate rolls it all back."""
    require_active_consent(fc.identity.active_consent(scope, customer_id), customer_id)
    template = merge_embeddings(list(rotated), list(weights))
    others = [m for m in fc.search(scope, model_id, template) if m.customer_id != customer_id]
    dup_threshold, dup_source = threshold_for(model_id, fc.policy.duplicate_far,
                                              fc.policy.fallback_duplicate_threshold)
    values: dict[str, Any] = {"model_id": model_id, "frames": len(rotated), "source": source,
                              "duplicate_threshold": round(dup_threshold, 4),
                              "threshold_source": dup_source,
                              "best_other_score": round(max((m.score for m in others),
                                                            default=-1.0), 4)}
    values.update({k: v for k, v in (extra or {}).items() if isinstance(v, str | int | float)})
    sealed = fc.seal(scope, customer_id, template, model_id, float(np.mean(weights)), now_ms)

    def work(tx: object) -> list[str]:
        old = fc.identity.delete_templates_of(scope, customer_id, tx=tx)
        fc.gallery.remove(scope, old, tx=tx)
        duplicate = fc.gallery.add_unless_duplicate(fc.gallery_entry(sealed, template),
                                                    dup_threshold, tx=tx)
        if duplicate is not None:
            raise _Duplicate(duplicate.score)
        fc.identity.add_template(sealed, tx=tx)
        return old

    try:
        old = fc.identity.transaction(work)
    except _Duplicate as found:
        values["best_other_score"] = round(max(found.score, values["best_other_score"]), 4)
        fc.audit(scope, "enrol", "refused", ("face_already_enrolled",), customer_id, now_ms,
                 values)
        raise FaceAlreadyEnrolled(
            "expected a face not enrolled on another account, got one that is "
            f"(score {found.score:.3f} >= {dup_threshold:.3f})", param="face") from None
    values["replaced_templates"] = len(old)
    fc.audit(scope, "enrol", "accepted", (), customer_id, now_ms, values)
    return {"object": "face_enrolment", "customer": customer_id, "template": sealed.template_id,
            "model_id": model_id, "frames_used": len(rotated),
            "replaced_templates": len(old), "key_id": sealed.sealed.key_id}


class _Duplicate(Exception):
    """Rolls the enrolment transaction back: the face is another customer's."""

    def __init__(self, score: float) -> None:
        super().__init__(score)
        self.score = score


def enrol_from_images(fc: FaceContext, scope: Scope, customer_id: str,
                      images: Sequence[Any], now_ms: int,
                      progress: Any = None) -> dict[str, Any]:
    """Operator enrolment from photos (BGR arrays): same quality gate, consent and duplicate
    rules; no challenge (the operator is present), which the audit records."""
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound

    good: list[tuple[float, Vector]] = []
    model_id: str | None = None
    rejected: dict[str, int] = {}
    for image in images:
        try:
            analysis = fc.pipeline.analyze_frame(image, signals=False)
        except (NoFaceFound, AmbiguousFaces) as exc:
            rejected[exc.code] = rejected.get(exc.code, 0) + 1
        else:
            q = analysis.quality
            if q.passed and analysis.embedding is not None:
                model_id = analysis.embedding.model_id
                weight = quality_score(q.face_px, q.sharpness, q.yaw_deg)
                good.append((weight, fc.rotate(scope, analysis.embedding.vector)))
            else:
                rejected["poor_quality"] = rejected.get("poor_quality", 0) + 1
        if progress is not None:
            progress()
    if not good or model_id is None:
        raise InvalidInput(f"expected at least one photo passing the quality gate, got none "
                           f"({rejected})", param="images")
    best = sorted(good, key=lambda g: -g[0])[: max(fc.policy.enrol_templates_from, 5)]
    return store_template(fc, scope, customer_id, [g[1] for g in best],
                          [max(g[0], 0.05) for g in best], model_id, now_ms,
                          source="operator_images",
                          extra={"liveness": "not_checked_operator_present",
                                 "photos": len(images), "photos_rejected": sum(rejected.values())})
