"""Face boarding: a departure's gate identifies among that departure's ticket holders only.

Passengers enrol a boarding template from their wallet (boarding consent first). A ticket is
consumed once (a conditional update), by face or by its QR code; every traveller at the gate
is an attempt, so the capture rate (a usable face reached the matcher) and the match rate (of
the captured, how many matched) are reported apart.

A departure with a fare charges it to the passenger's wallet through the money core
(``create_payment`` + ``confirm_payment``: risk rules, ledger, receipt, webhooks) in the same
transaction that consumes the ticket (``BoardingRecords.run``): both commit or neither. The
authorisation is the ticket plus the passenger's active boarding consent, granted on a text
that says fares are charged (named on the payment's description). The charge is idempotent
per ticket: the ticket's conditional update and an idempotency key derived from its id
(``fare_key``) both stop a second charge. A wallet that cannot pay is a decision, not an
error: the gate stays shut, the ticket stays valid, the failed payment stays recorded, and the
answer says what to do instead (``fare_refusal``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smilepay.domain.boarding import (
    BoardMethod,
    Departure,
    Fare,
    GateAttempt,
    Ticket,
    TicketAlreadyUsed,
    check_open,
    consent_covers_fares,
    consume,
    fare_description,
    fare_due,
    fare_key,
    fare_refusal,
    gate_rates,
)
from smilepay.domain.identity import AuditValue
from smilepay.domain.ids import new_id
from smilepay.domain.payments import PaymentIntent, PaymentStatus
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.gates import BoardingRecords, BoardingTx, GatesStore, GateTemplateStore
from smilepay.ports.money import KeyClaim, StoredResponse
from smilepay.services.attendance import enrol_purpose_template, passed_probe
from smilepay.services.context import MoneyContext
from smilepay.services.face_context import FaceContext, FrameSession, now_utc, threshold_for
from smilepay.services.idempotency import fingerprint_request
from smilepay.services.identity_matching import GATE_FAR, CandidateMatcher
from smilepay.services.payments import confirm_payment, create_payment

BOARD_PURPOSE = "board"
BOARD_ENROL_PURPOSE = "board_enrol"
FALLBACK_THRESHOLD = 0.55
DEPARTURE_KINDS = frozenset({"train", "flight", "shuttle", "event", "taxi"})


@dataclass
class Boarding:
    records: BoardingRecords
    templates: GateTemplateStore
    consents: GatesStore
    matcher: CandidateMatcher
    money: MoneyContext | None = None  # the money core's context: needed for fares only


def qr_hash(pepper: bytes, token: str) -> str:
    return hmac.new(pepper, f"ticket-qr|{token}".encode(), hashlib.sha256).hexdigest()


def add_departure(board: Boarding, scope: Scope, kind: str, name: str, opens_at: datetime,
                  closes_at: datetime, now_ms: int, fare_minor: int = 0,
                  fare_currency: str | None = None) -> Departure:
    """A departure; with ``fare_minor`` > 0 (in ``fare_currency``, required then) boarding it
    charges that fare to the passenger's wallet."""
    if kind not in DEPARTURE_KINDS:
        raise InvalidInput(f"expected a kind in {sorted(DEPARTURE_KINDS)}, got {kind!r}",
                           param="kind")
    departure = Departure(new_id("dep", now_ms), kind, opens_at, closes_at, fare_minor,
                          fare_currency)
    board.records.add_departure(scope, departure, name[:100])
    return departure


def _departure(board: Boarding, scope: Scope, departure_id: str) -> Departure:
    found = board.records.get_departure(scope, departure_id)
    if found is None:
        raise NotFound(f"expected a departure of this account, got {departure_id!r}",
                       param="departure")
    return found


def issue_ticket(fc: FaceContext, board: Boarding, scope: Scope, departure_id: str,
                 customer_id: str, now_ms: int) -> tuple[Ticket, str]:
    """A ticket and its QR token (shown once; only its keyed hash is kept)."""
    _departure(board, scope, departure_id)
    ticket = Ticket(new_id("tkt", now_ms), departure_id, customer_id)
    token = "qr_" + secrets.token_urlsafe(18)
    board.records.add_ticket(scope, ticket, qr_hash(fc.pepper, token))
    return ticket, token


def finish_passenger_enrolment(fc: FaceContext, board: Boarding, scope: Scope,
                               customer_id: str, session: FrameSession, now_ms: int) -> str:
    return enrol_purpose_template(fc, board, Purpose.BOARDING, scope, customer_id, session,
                                  now_ms, "board_enrol")


def board_by_face(fc: FaceContext, board: Boarding, scope: Scope, departure_id: str,
                  session: FrameSession, now_ms: int) -> dict[str, Any]:
    if session.purpose != BOARD_PURPOSE or session.subject_id != departure_id:
        raise NotFound(f"expected a gate session of departure {departure_id!r}, got another",
                       param="session")
    departure = _departure(board, scope, departure_id)
    check_open(departure, now_utc(now_ms))
    found = passed_probe(fc, session)
    fc.sessions.drop(session.challenge_id)
    attempt_id = new_id("gat", now_ms)
    refused = {"object": "boarding_attempt", "id": attempt_id, "boarded": False,
               "fallback": "qr"}
    if found is None:
        board.records.add_attempt(scope, attempt_id, departure_id,
                                  GateAttempt(False, False, None), None, None, now_ms)
        return {**refused, "state": "not_captured"}
    probe, model_id = found
    candidates = board.records.candidates(scope, departure_id)  # its passengers only
    threshold, _ = threshold_for(model_id, GATE_FAR, FALLBACK_THRESHOLD)
    decision = board.matcher.identify(probe, model_id, candidates, threshold)
    values: dict[str, AuditValue] = {"departure": departure_id, "candidates": decision.candidates,
              "threshold": round(threshold, 4),
              "best_score": None if decision.best_score is None
              else round(decision.best_score, 4)}
    if decision.match is None:
        board.records.add_attempt(scope, attempt_id, departure_id, GateAttempt(True, False, None),
                                  None, decision.best_score, now_ms)
        fc.audit(scope, "board", "refused", ("no_match",), departure_id, now_ms, values)
        return {**refused, "state": "no_match"}
    ticket = board.records.valid_ticket_of(scope, departure_id, decision.match.subject_id)
    if ticket is None:  # consumed between the candidate read and now (a QR scan, a retry)
        raise TicketAlreadyUsed("expected a valid ticket, got one used meanwhile")
    score = decision.match.score

    def attempt(tx: BoardingTx, boarded: bool) -> None:
        tx.add_attempt(scope, attempt_id, departure_id,
                       GateAttempt(True, True, BoardMethod.FACE if boarded else None),
                       ticket.ticket_id, score, now_ms)

    settled = settle_ticket(board, scope, departure, ticket.ticket_id, BoardMethod.FACE,
                            now_ms, attempt)
    values = {**values, "ticket": ticket.ticket_id, **settled.audit_values()}
    if not settled.boarded:
        fc.audit(scope, "board", "refused", ("fare_declined", settled.reason),
                 ticket.customer_id, now_ms, values)
        return {**refused, **settled.refusal(departure, ticket)}
    fc.audit(scope, "board", "accepted", (), ticket.customer_id, now_ms, values)
    return {"object": "boarding_attempt", "id": attempt_id, "boarded": True,
            "state": "boarded", "method": "face", "ticket": ticket.ticket_id,
            "customer": ticket.customer_id, "fare": settled.fare_json()}


def board_by_qr(fc: FaceContext, board: Boarding, scope: Scope, departure_id: str,
                token: str, now_ms: int, attempt_id: str | None = None) -> dict[str, Any]:
    """The fallback: the ticket's QR code (on the attempt whose face failed, when given)."""
    departure = _departure(board, scope, departure_id)
    check_open(departure, now_utc(now_ms))
    ticket = board.records.ticket_by_qr(scope, qr_hash(fc.pepper, token))
    if ticket is None or ticket.departure_id != departure_id:
        raise NotFound("expected a ticket of this departure, got an unknown QR code",
                       param="qr")
    consume(ticket, now_utc(now_ms), BoardMethod.QR)  # TicketAlreadyUsed if used
    new_attempt = new_id("gat", now_ms)
    used_attempt = attempt_id or new_attempt

    def attempt(tx: BoardingTx, boarded: bool) -> None:
        nonlocal used_attempt
        if boarded and attempt_id is not None and tx.set_attempt_method(
                scope, attempt_id, BoardMethod.QR, ticket.ticket_id):
            return  # the attempt whose face failed, closed by its QR code
        if not boarded and attempt_id is not None:
            return  # that attempt stays as it was: turned away
        used_attempt = new_attempt
        tx.add_attempt(scope, new_attempt, departure_id,
                       GateAttempt(False, False, BoardMethod.QR if boarded else None),
                       ticket.ticket_id, None, now_ms)

    settled = settle_ticket(board, scope, departure, ticket.ticket_id, BoardMethod.QR, now_ms,
                            attempt)
    values: dict[str, AuditValue] = {"departure": departure_id, "ticket": ticket.ticket_id,
                                     **settled.audit_values()}
    if not settled.boarded:
        fc.audit(scope, "board_qr", "refused", ("fare_declined", settled.reason),
                 ticket.customer_id, now_ms, values)
        return {"object": "boarding_attempt", "id": used_attempt, "boarded": False,
                **settled.refusal(departure, ticket)}
    fc.audit(scope, "board_qr", "accepted", (), ticket.customer_id, now_ms, values)
    return {"object": "boarding_attempt", "id": used_attempt, "boarded": True,
            "state": "boarded", "method": "qr", "ticket": ticket.ticket_id,
            "customer": ticket.customer_id, "fare": settled.fare_json()}


def board_by_staff(fc: FaceContext, board: Boarding, scope: Scope, departure_id: str,
                   ticket_id: str, now_ms: int, attempt_id: str | None = None
                   ) -> dict[str, Any]:
    """The staff fallback (operator key): board a ticket by hand, its fare (if any) paid
    another way, so nothing is charged; the ticket is consumed, so it can neither board nor be
    charged again. ``attempt_id``: the gate attempt that was turned away, now closed."""
    departure = _departure(board, scope, departure_id)
    check_open(departure, now_utc(now_ms))
    ticket = board.records.get_ticket(scope, ticket_id)
    if ticket is None or ticket.departure_id != departure_id:
        raise NotFound(f"expected a ticket of this departure, got {ticket_id!r}",
                       param="ticket")
    consume(ticket, now_utc(now_ms), BoardMethod.STAFF)  # TicketAlreadyUsed if used

    def attempt(tx: BoardingTx, boarded: bool) -> None:
        if attempt_id is not None:
            tx.set_attempt_method(scope, attempt_id, BoardMethod.STAFF, ticket_id)

    settled = settle_ticket(board, scope, departure, ticket_id, BoardMethod.STAFF, now_ms,
                            attempt)
    fare = settled.fare
    fc.audit(scope, "board_staff", "accepted",
             ("fare_paid_elsewhere",) if fare is not None else (), ticket.customer_id, now_ms,
             {"departure": departure_id, "ticket": ticket_id,
              "fare_minor": None if fare is None else fare.amount_minor,
              "fare_currency": None if fare is None else fare.currency})
    return {"object": "boarding_attempt", "id": attempt_id, "boarded": True,
            "state": "boarded", "method": "staff", "ticket": ticket_id,
            "customer": ticket.customer_id,
            "fare": None if fare is None else {
                "amount_minor": fare.amount_minor, "currency": fare.currency,
                "text": fare.text, "payment": None, "status": "paid_elsewhere"}}


@dataclass(frozen=True)
class Settled:
    """A ticket's boarding decided in one transaction: boarded (ticket consumed, fare charged
    when one was due), or turned away because the wallet could not pay (nothing consumed)."""

    boarded: bool
    fare: Fare | None
    payment: PaymentIntent | None = None  # the fare's, succeeded or failed
    consent_id: str | None = None  # the boarding consent that authorised it
    reason: str = ""  # why it was turned away: a decline code, no_boarding_consent or
    # consent_without_fares (granted on a text that did not mention fares)

    def fare_json(self) -> dict[str, Any] | None:
        if self.fare is None:
            return None
        return {"amount_minor": self.fare.amount_minor, "currency": self.fare.currency,
                "text": self.fare.text,
                "payment": None if self.payment is None else self.payment.id,
                "status": "paid" if self.boarded else "declined"}

    def audit_values(self) -> dict[str, AuditValue]:
        if self.fare is None:
            return {}
        return {"fare_minor": self.fare.amount_minor, "fare_currency": self.fare.currency,
                "payment": None if self.payment is None else self.payment.id,
                "consent": self.consent_id}

    def refusal(self, departure: Departure, ticket: Ticket) -> dict[str, Any]:
        """The gate's answer: what to do, and the fallback (pay another way, staff)."""
        return {"state": "fare_declined", "reason": self.reason, "fallback": "staff",
                "message": fare_refusal(departure, self.reason), "ticket": ticket.ticket_id,
                "fare": self.fare_json()}


def settle_ticket(board: Boarding, scope: Scope, departure: Departure, ticket_id: str,
                  method: BoardMethod, now_ms: int,
                  attempt: Callable[[BoardingTx, bool], None]) -> Settled:
    """Consume the ticket and charge its fare (if due) in one transaction, or neither.

    ``TicketAlreadyUsed`` (nothing written) when the ticket was consumed meanwhile (a retry, a
    second gate) or its fare was charged already; a declined fare returns ``Settled`` with
    ``boarded`` False: the failed payment and the attempt are recorded, the ticket is not.
    Staff (``BoardMethod.STAFF``) board by hand: the fare was paid another way, nothing is
    charged."""
    fare = fare_due(departure)
    charge = fare is not None and method is not BoardMethod.STAFF
    if charge and board.money is None:
        raise RuntimeError("expected the money core's context for a departure with a fare")

    def work(tx: BoardingTx) -> Settled:
        ticket = tx.valid_ticket(scope, ticket_id)  # locked until the commit
        if ticket is None:
            raise TicketAlreadyUsed("expected a valid ticket, got one used meanwhile",
                                    ticket_id=ticket_id)
        payment = consent = None
        if charge and fare is not None and board.money is not None:
            found = tx.boarding_consent(scope, ticket.customer_id)
            if found is None or not consent_covers_fares(found[1]):
                attempt(tx, False)
                return Settled(False, fare, reason="no_boarding_consent" if found is None
                               else "consent_without_fares")
            consent = found[0]
            payment = _charge_fare(tx, board.money, scope, departure, fare, ticket, consent,
                                   now_ms)
            if payment.status is not PaymentStatus.SUCCEEDED:
                attempt(tx, False)
                return Settled(False, fare, payment, consent,
                               payment.last_error_code or "declined")
        used = consume(ticket, now_utc(now_ms), method,
                       None if payment is None else payment.id)
        if not tx.consume(scope, used):  # rolls the charge back with it
            raise TicketAlreadyUsed("expected a valid ticket, got one used meanwhile",
                                    ticket_id=ticket_id)
        if payment is not None:  # the key now replays: this ticket's fare is paid
            tx.money.store_idempotent_response(scope, fare_key(ticket_id), StoredResponse(
                200, json.dumps({"ticket": ticket_id, "payment": payment.id}).encode()))
        attempt(tx, True)
        return Settled(True, fare, payment, consent)

    return board.records.run(work)


def _charge_fare(tx: BoardingTx, ctx: MoneyContext, scope: Scope, departure: Departure,
                 fare: Fare, ticket: Ticket, consent_id: str, now_ms: int) -> PaymentIntent:
    """The fare through the money core (risk rules, ledger, receipt and webhook events), under
    the ticket's idempotency key: a key that already holds a response means this ticket's fare
    was paid, and nothing is charged again. A declined fare leaves the key unanswered, so the
    passenger may try again after topping up."""
    key = fare_key(ticket.ticket_id)
    fingerprint = fingerprint_request(
        "POST", f"/boarding/tickets/{ticket.ticket_id}/fare",
        f"{fare.amount_minor} {fare.currency} {ticket.customer_id}".encode())
    claim = KeyClaim(key, fingerprint, now_ms, now_ms + ctx.policy.idempotency_ttl_s * 1000)
    if tx.money.claim_idempotency_key(scope, claim) is not None:
        raise TicketAlreadyUsed("expected a ticket whose fare is unpaid, got one paid already",
                                ticket_id=ticket.ticket_id)
    intent = create_payment(tx.money, ctx, scope, amount_minor=fare.amount_minor,
                            currency=fare.currency, customer_id=ticket.customer_id,
                            description=fare_description(departure, ticket.ticket_id,
                                                         consent_id), insert=False)
    return confirm_payment(tx.money, ctx, scope, intent.id, created=intent)


def rates(board: Boarding, scope: Scope, departure_id: str) -> dict[str, Any]:
    _departure(board, scope, departure_id)
    found = gate_rates(board.records.attempts(scope, departure_id))
    return {"object": "gate_rates", "departure": departure_id, "travellers": found.travellers,
            "captured": found.captured, "matched": found.matched,
            "capture_rate": found.capture_rate, "match_rate": found.match_rate,
            "boarded_by_face": found.boarded_by_face, "boarded_by_qr": found.boarded_by_qr,
            "boarded_by_staff": found.boarded_by_staff}
