"""Face boarding: a departure's gate identifies among that departure's ticket holders only.

Passengers enrol a boarding template from their wallet (boarding consent first). A ticket is
consumed once (a conditional update), by face or by its QR code; every traveller at the gate
is an attempt, so the capture rate (a usable face reached the matcher) and the match rate (of
the captured, how many matched) are reported apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smilepay.domain.boarding import (
    BoardMethod,
    Departure,
    GateAttempt,
    Ticket,
    TicketAlreadyUsed,
    check_open,
    consume,
    gate_rates,
)
from smilepay.domain.identity import AuditValue
from smilepay.domain.ids import new_id
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.gates import BoardingRecords, GatesStore, GateTemplateStore
from smilepay.services.attendance import enrol_purpose_template, passed_probe
from smilepay.services.face_context import FaceContext, FrameSession, now_utc, threshold_for
from smilepay.services.identity_matching import GATE_FAR, CandidateMatcher

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


def qr_hash(pepper: bytes, token: str) -> str:
    return hmac.new(pepper, f"ticket-qr|{token}".encode(), hashlib.sha256).hexdigest()


def add_departure(board: Boarding, scope: Scope, kind: str, name: str, opens_at: datetime,
                  closes_at: datetime, now_ms: int) -> Departure:
    if kind not in DEPARTURE_KINDS:
        raise InvalidInput(f"expected a kind in {sorted(DEPARTURE_KINDS)}, got {kind!r}",
                           param="kind")
    departure = Departure(new_id("dep", now_ms), kind, opens_at, closes_at, 0)
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
    used = consume(ticket, now_utc(now_ms), BoardMethod.FACE)
    if not board.records.consume(scope, used):  # consumed meanwhile (a QR scan, a retry)
        raise TicketAlreadyUsed("expected a valid ticket, got one used meanwhile",
                                ticket_id=ticket.ticket_id)
    board.records.add_attempt(scope, attempt_id, departure_id,
                              GateAttempt(True, True, BoardMethod.FACE), ticket.ticket_id,
                              decision.match.score, now_ms)
    fc.audit(scope, "board", "accepted", (), ticket.customer_id, now_ms,
             {**values, "ticket": ticket.ticket_id})
    return {"object": "boarding_attempt", "id": attempt_id, "boarded": True,
            "state": "boarded", "method": "face", "ticket": ticket.ticket_id,
            "customer": ticket.customer_id}


def board_by_qr(fc: FaceContext, board: Boarding, scope: Scope, departure_id: str,
                token: str, now_ms: int, attempt_id: str | None = None) -> dict[str, Any]:
    """The fallback: the ticket's QR code (on the attempt whose face failed, when given)."""
    departure = _departure(board, scope, departure_id)
    check_open(departure, now_utc(now_ms))
    ticket = board.records.ticket_by_qr(scope, qr_hash(fc.pepper, token))
    if ticket is None or ticket.departure_id != departure_id:
        raise NotFound("expected a ticket of this departure, got an unknown QR code",
                       param="qr")
    used = consume(ticket, now_utc(now_ms), BoardMethod.QR)  # TicketAlreadyUsed if used
    if not board.records.consume(scope, used):
        raise TicketAlreadyUsed("expected a valid ticket, got one used meanwhile",
                                ticket_id=ticket.ticket_id)
    if attempt_id is None or not board.records.set_attempt_method(
            scope, attempt_id, BoardMethod.QR, ticket.ticket_id):
        attempt_id = new_id("gat", now_ms)
        board.records.add_attempt(scope, attempt_id, departure_id,
                                  GateAttempt(False, False, BoardMethod.QR), ticket.ticket_id,
                                  None, now_ms)
    fc.audit(scope, "board_qr", "accepted", (), ticket.customer_id, now_ms,
             {"departure": departure_id, "ticket": ticket.ticket_id})
    return {"object": "boarding_attempt", "id": attempt_id, "boarded": True, "state": "boarded",
            "method": "qr", "ticket": ticket.ticket_id, "customer": ticket.customer_id}


def rates(board: Boarding, scope: Scope, departure_id: str) -> dict[str, Any]:
    _departure(board, scope, departure_id)
    found = gate_rates(board.records.attempts(scope, departure_id))
    return {"object": "gate_rates", "departure": departure_id, "travellers": found.travellers,
            "captured": found.captured, "matched": found.matched,
            "capture_rate": found.capture_rate, "match_rate": found.match_rate,
            "boarded_by_face": found.boarded_by_face, "boarded_by_qr": found.boarded_by_qr}
