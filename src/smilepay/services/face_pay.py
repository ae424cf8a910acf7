"""Smile to pay: a challenge bound to the payment intent, then face + phone, then the money core.

Order of decisions for one payment: the challenge (liveness) is passed with good frames; the
probe (mean of the best frames, in the tenant's rotated space) is searched in the gallery;
the phone entry (full or last four, by policy) narrows the candidates to its owners; the match
must be an owner above the 1:1 threshold. Only then does the money core run its risk rules and
move money. A Happy Go promotion may refund part of it, funded by the merchant, from the smile
intensity read after the identity decision. Each outcome is audited (no pixels).
"""

from __future__ import annotations

from typing import Any

from smilepay.domain.false_match import FalseMatch, decision_false_match
from smilepay.domain.happy_go import happy_go_discount
from smilepay.domain.identity import (
    Candidate,
    Match,
    PhonePolicy,
    best_per_customer,
    decide_identity,
    normalise_phone_entry,
)
from smilepay.domain.payments import PaymentIntent, PaymentStatus, is_unpaid_past
from smilepay.domain.templates import merge_embeddings
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, InvalidInput, NotFound
from smilepay.ports.flow import FactorAttempt
from smilepay.ports.money import MoneyTx
from smilepay.services.customers import find_customer_by_phone, find_customers_by_last4
from smilepay.services.face_context import (
    FaceContext,
    FrameSession,
    liveness_values,
    now_utc,
    threshold_for,
)
from smilepay.services.face_feedback import parse_capability
from smilepay.services.face_guard import (
    api_key_owner,
    factor_gate,
    open_owned_challenge,
    terminal_payment_view,
)
from smilepay.services.face_money import MoneySide
from smilepay.services.kiosk_prompts import CUSTOMER_PROMPTS as KIOSK_MESSAGES
from smilepay.services.payments import confirm_payment, get_payment
from smilepay.services.refunds import create_refund

MAX_CHALLENGES_PER_PAYMENT = 3


def start_face_payment(fc: FaceContext, money: MoneySide, scope: Scope, payment_id: str,
                       terminal_id: str | None, now_ms: int,
                       capability: str = "rgb", owner: str = "",
                       ) -> tuple[FrameSession, PaymentIntent]:
    """A random challenge bound to this payment; at most a few per payment (replay odds).

    ``capability`` is what the terminal's camera sends: ``rgb`` or ``rgb_depth`` (then every
    frame carries a depth map and the depth relief check gates too).
    """
    chosen = parse_capability(capability)
    intent = money.store.run(lambda tx: get_payment(tx, scope, payment_id), write=False)
    if intent.status is not PaymentStatus.REQUIRES_CONFIRMATION:
        raise Conflict(f"expected a payment waiting for confirmation, got {intent.status.value}",
                       param="payment_intent")
    if is_unpaid_past(intent, now_ms, money.ctx.policy.unpaid_ttl_s):
        raise Conflict("expected a payment that has not expired, got one older than "
                       f"{money.ctx.policy.unpaid_ttl_s} s: create a new payment",
                       param="payment_intent")
    if terminal_id is not None and intent.terminal_id not in (None, terminal_id):
        raise InvalidInput("expected a payment created for this terminal, got another's",
                           param="payment_intent")
    if fc.identity.count_challenges(scope, payment_id) >= MAX_CHALLENGES_PER_PAYMENT:
        raise Conflict(f"expected at most {MAX_CHALLENGES_PER_PAYMENT} face checks per payment, "
                       "got more: create a new payment", param="payment_intent")
    session = open_owned_challenge(fc, scope, "pay", payment_id, terminal_id,
                                   owner or api_key_owner(terminal_id, ""), now_ms, chosen)
    return session, intent


FLOW_MESSAGES = {
    "too_many_attempts": "Too many tries: please pay another way or ask the staff.",
    "full_phone_required": "Please enter your full phone number.",
}


def confirm_face_payment(fc: FaceContext, money: MoneySide, scope: Scope, challenge_id: str,
                         phone_entry: str, now_ms: int, owner: str | None = None
                         ) -> dict[str, Any]:
    """The identity decision and, on a match, the payment; a JSON-ready result (no customer
    id: it goes to a terminal). Only the session's ``owner`` finds it. Wrong phone factors are
    counted per payment, terminal and face (``face_guard``); a match whose decision-level
    false-match probability exceeds the policy target asks for the full number instead."""
    session = fc.sessions.get(challenge_id, owner)
    if session.purpose != "pay" or session.scope != scope:
        raise NotFound(f"expected an open face session, got {challenge_id!r} "
                       "(expired or unknown: start again)", param="session")
    payment_id = session.subject_id
    policy = fc.policy
    phone_policy = PhonePolicy.FULL if session.needs_full_phone else policy.phone_policy
    phone_digits = normalise_phone_entry(phone_entry, phone_policy)
    base: dict[str, Any] = {"object": "face_payment", "payment_intent": payment_id,
                            "session": challenge_id}
    values: dict[str, Any] = {"frames": session.frames_seen, "good_frames": session.good_frames,
                              "steps": ",".join(a.value for a in session.challenge.steps),
                              "capability": session.capability.value,
                              "phone_policy": phone_policy.value,
                              **liveness_values(session)}
    if session.last_state != "passed" or not session.best or session.model_id is None:
        reasons = tuple((session.outcome or {}).get("reasons", [])) or ("not_passed",)
        fc.audit(scope, "pay", "refused", ("challenge_not_passed", *reasons), payment_id,
                 now_ms, values)
        return {**base, "status": "refused", "reason": "challenge_not_passed",
                "message": KIOSK_MESSAGES["challenge_not_passed"]}
    model_id = session.model_id
    best = session.best[: policy.probe_frames]  # best first, the strategy's full embeddings
    probe = merge_embeddings([g[1] for g in best], [max(g[0], 0.05) for g in best])
    hits = fc.search(scope, model_id, probe)
    candidates = best_per_customer([Candidate(h.template_id, h.score) for h in hits],
                                   {h.template_id: h.customer_id for h in hits})
    threshold, source = threshold_for(model_id, policy.match_far, policy.fallback_match_threshold)
    face_key = candidates[0].template_id if candidates and candidates[0].score >= threshold \
        else None  # the face in front of the camera, as the gallery knows it
    values.update({"model_id": model_id, "threshold": round(threshold, 4),
                   "threshold_source": source, "candidates": len(candidates),
                   "best_score": round(candidates[0].score, 4) if candidates else None})
    attempt_owner = owner or session.owner
    lock, counts = factor_gate(fc, scope, payment_id, attempt_owner, face_key, now_ms)
    values.update(counts)
    if lock is not None:
        fc.sessions.drop(challenge_id)
        fc.audit(scope, "pay", "refused", ("too_many_attempts", f"locked_{lock}"), payment_id,
                 now_ms, values)
        return {**base, "status": "refused", "reason": "too_many_attempts",
                "message": FLOW_MESSAGES["too_many_attempts"]}
    owners = _phone_owners(money, scope, phone_digits, phone_policy,
                           [c.customer_id for c in candidates])
    decision = decide_identity(candidates, threshold, owners)
    values["phone_owners_among_candidates"] = len(owners)

    def attempt(ok: bool, reason: str, p: float | None = None) -> None:
        fc.flow.record_factor_attempt(scope, FactorAttempt(
            payment_id, attempt_owner, face_key, ok, reason, p, now_ms))

    if not isinstance(decision, Match):
        fc.sessions.drop(challenge_id)
        attempt(False, decision.reason)
        fc.audit(scope, "pay", "refused", ("no_match", decision.reason), payment_id, now_ms,
                 values)
        return {**base, "status": "refused", "reason": "no_match",
                "message": KIOSK_MESSAGES["no_match"]}
    bound = _false_match(fc, money, scope, model_id, decision.score, phone_digits, phone_policy)
    values.update({"score": round(decision.score, 4), "margin": round(decision.margin, 4),
                   "false_match_p": float(f"{bound.probability:.3g}"),
                   "false_match_fmr": float(f"{bound.fmr:.3g}"),
                   "sharing_digits": bound.candidates, "false_match_source": bound.source,
                   "false_match_target": policy.false_match_target})
    if bound.probability > policy.false_match_target and phone_policy is PhonePolicy.LAST_FOUR:
        session.needs_full_phone = True  # the session stays open for the full number
        fc.sessions.save(session)
        attempt(True, "full_phone_required", bound.probability)
        fc.audit(scope, "pay", "full_phone_required", ("false_match_above_target",),
                 payment_id, now_ms, values)
        return {**base, "status": "full_phone_required", "reason": "full_phone_required",
                "phone_policy": PhonePolicy.FULL.value,
                "message": FLOW_MESSAGES["full_phone_required"]}
    fc.sessions.drop(challenge_id)
    attempt(True, "match", bound.probability)
    return _pay(fc, money, scope, session, decision, payment_id, now_ms, values, base)


def _false_match(fc: FaceContext, money: MoneySide, scope: Scope, model_id: str, score: float,
                 digits: str, policy: PhonePolicy) -> FalseMatch:
    """The decision's false-match probability: FMR at its score times the customers the face
    was compared with (all who share the last four digits; one for the full number)."""
    from smilepay.vision.calibration import load_table

    sharing = 1
    if policy is PhonePolicy.LAST_FOUR:
        sharing = money.store.run(lambda tx: len(find_customers_by_last4(
            tx, money.ctx, scope, digits, None)), write=False)
    try:
        rows = [(r.far, r.threshold) for r in load_table(model_id).rows]
    except NotFound:  # no table: assume the 1:1 policy rate at the threshold, and say so
        found = decision_false_match([(fc.policy.match_far, 0.0)], 0.0, sharing)
        return FalseMatch(found.fmr, found.candidates, found.probability, "assumed")
    return decision_false_match(rows, score, sharing)


def _phone_owners(money: MoneySide, scope: Scope, digits: str, policy: PhonePolicy,
                  candidate_ids: list[str]) -> set[str]:
    if not candidate_ids:
        return set()

    def work(tx: MoneyTx) -> set[str]:
        if policy is PhonePolicy.LAST_FOUR:
            found = find_customers_by_last4(tx, money.ctx, scope, digits, candidate_ids)
            return {c.id for c in found}
        one = find_customer_by_phone(tx, money.ctx, scope, "+" + digits)
        return {one.id} if one is not None and one.id in candidate_ids else set()

    return money.store.run(work, write=False)


def _pay(fc: FaceContext, money: MoneySide, scope: Scope, session: FrameSession,
         decision: Match, payment_id: str, now_ms: int, values: dict[str, Any],
         base: dict[str, Any]) -> dict[str, Any]:
    customer_id = decision.customer_id
    intent = money.store.run(
        lambda tx: confirm_payment(tx, money.ctx, scope, payment_id, customer_id))
    consent = fc.identity.active_consent(scope, customer_id)
    if consent is not None:
        fc.identity.touch_consent(scope, consent.consent_id, now_utc(now_ms))
    if intent.status is not PaymentStatus.SUCCEEDED:
        code = intent.last_error_code or "declined"
        fc.audit(scope, "pay", "declined", ("money_declined", code), payment_id, now_ms,
                 {**values, "customer": customer_id})
        return {**base, "status": "declined", "reason": code,
                "message": KIOSK_MESSAGES.get(code, KIOSK_MESSAGES["declined"]),
                "payment": terminal_payment_view(intent)}
    discount = happy_go_discount(fc.identity.active_promotion(scope), session.smile_max,
                                 intent.amount_minor)
    receipt: dict[str, Any] = {"amount_minor": intent.amount_minor, "currency": intent.currency,
                               "discount_minor": 0, "paid_minor": intent.amount_minor}
    if discount is not None:
        refund, intent = money.store.run(lambda tx: create_refund(
            tx, money.ctx, scope, payment_id, discount.amount_minor, reason="happy_go"))
        receipt.update({"discount_minor": discount.amount_minor, "smile": discount.smile,
                        "promotion": discount.promotion_id, "refund": refund.id,
                        "paid_minor": intent.amount_minor - discount.amount_minor})
        values.update({"happy_go_discount_minor": discount.amount_minor,
                       "smile": discount.smile})
    fc.audit(scope, "pay", "accepted", (), payment_id, now_ms, {**values, "customer": customer_id})
    return {**base, "status": "succeeded", "receipt": receipt,
            "message": "Paid. Thank you!", "payment": terminal_payment_view(intent)}
