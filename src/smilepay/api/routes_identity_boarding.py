"""/v1/identity boarding routes (included by ``routes_identity``).

The operator (secret key) opens departures, issues tickets and reads the gate's rates; a
passenger (wallet session) consents to boarding and enrols a boarding template; the gate
(terminal key) runs the liveness challenge and boards by face among that departure's ticket
holders, or by the ticket's QR code. A departure with a fare charges it to the passenger's
wallet when the ticket is consumed (both in one transaction); a wallet that cannot pay keeps
the gate shut and answers ``boarded: false``, ``state: fare_declined`` with what to do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from smilepay.api.auth import container_of, require_secret_key, require_terminal_key
from smilepay.api.built_once import built_once
from smilepay.api.routes_face import WalletCaller, face_of, now_ms, require_wallet, session_json
from smilepay.domain.consent import ConsentRequired
from smilepay.domain.ids import new_id
from smilepay.domain.money import MAX_AMOUNT_MINOR
from smilepay.domain.purposes import (
    Purpose,
    grant_purpose_consent,
    purpose_text,
    require_consent,
)
from smilepay.errors import NotFound
from smilepay.services import boarding as board_service
from smilepay.services.boarding import Boarding
from smilepay.services.face_context import now_utc
from smilepay.services.face_feedback import parse_capability
from smilepay.services.face_guard import api_key_owner, open_owned_challenge
from smilepay.services.tenants import Caller

router = APIRouter(tags=["boarding"])


def boarding_of(request: Request) -> Boarding:
    container = container_of(request)

    def build() -> Boarding:
        from smilepay.adapters.sql.gates_boarding import SqlBoarding
        from smilepay.adapters.sql.gates_store import SqlGatesStore
        from smilepay.adapters.sql.gates_templates import SqlGateTemplates
        from smilepay.services.identity_matching import SealedTemplateMatcher

        engine = container.store.engine
        templates = SqlGateTemplates(engine)
        return Boarding(SqlBoarding(engine), templates, SqlGatesStore(engine),
                        SealedTemplateMatcher(templates, face_of(request).open_vector),
                        container.ctx)

    return built_once(container, "boarding", build)


class DepartureBody(BaseModel):
    kind: str = Field(max_length=16)
    name: str = Field(min_length=1, max_length=100)
    opens_ms: int = Field(gt=0)
    closes_ms: int = Field(gt=0)
    fare_minor: int = Field(default=0, ge=0, le=MAX_AMOUNT_MINOR,
                            description="charged to the passenger's wallet on boarding, in "
                                        "minor units of fare_currency; 0: free")
    fare_currency: str | None = Field(default=None, min_length=3, max_length=3,
                                      description="ISO 4217; required when fare_minor > 0")


@router.post("/departures")
def post_departure(body: DepartureBody, request: Request,
                   caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    d = board_service.add_departure(
        boarding_of(request), caller.scope, body.kind, body.name,
        datetime.fromtimestamp(body.opens_ms / 1000, UTC),
        datetime.fromtimestamp(body.closes_ms / 1000, UTC), now_ms(request), body.fare_minor,
        body.fare_currency)
    return {"id": d.departure_id, "object": "departure", "kind": d.kind, "name": body.name,
            "opens_ms": body.opens_ms, "closes_ms": body.closes_ms,
            "fare_minor": d.fare_minor, "fare_currency": d.fare_currency}


class TicketBody(BaseModel):
    customer: str = Field(max_length=40)


@router.post("/departures/{departure_id}/tickets")
def post_ticket(departure_id: str, body: TicketBody, request: Request,
                caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    ticket, token = board_service.issue_ticket(face_of(request), boarding_of(request),
                                               caller.scope, departure_id, body.customer,
                                               now_ms(request))
    return {"id": ticket.ticket_id, "object": "ticket", "departure": departure_id,
            "customer": ticket.customer_id, "status": ticket.status.value, "qr": token}


class StaffBoardBody(BaseModel):
    attempt: str | None = Field(default=None, max_length=40,
                                description="the gate attempt that was turned away, if any")


@router.post("/departures/{departure_id}/tickets/{ticket_id}/board")
def post_staff_board(departure_id: str, ticket_id: str, body: StaffBoardBody, request: Request,
                     caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """Staff board a ticket by hand (its fare, if any, paid another way: not charged)."""
    return board_service.board_by_staff(face_of(request), boarding_of(request), caller.scope,
                                        departure_id, ticket_id, now_ms(request), body.attempt)


@router.get("/departures/{departure_id}/rates")
def get_rates(departure_id: str, request: Request,
              caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    return board_service.rates(boarding_of(request), caller.scope, departure_id)


# --- the passenger ---------------------------------------------------------------------------
class PassengerEnrolBody(BaseModel):
    consent_digest: str = Field(min_length=64, max_length=64)
    capability: str = Field(default="rgb", max_length=16)


@router.post("/boarding/enrolments")
def post_passenger_enrolment(body: PassengerEnrolBody, request: Request,
                             who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    board, fc, t = boarding_of(request), face_of(request), now_ms(request)
    try:  # a grant on an older text (before fares were charged) is renewed with this one
        current = require_consent(board.consents.purpose_consents(who.scope, who.customer_id),
                                  who.customer_id, Purpose.BOARDING)
        if current.version != purpose_text(Purpose.BOARDING).version:
            raise ConsentRequired("expected a grant of the current boarding text, got an "
                                  "older one", purpose=Purpose.BOARDING.value)
    except ConsentRequired:
        board.consents.add_purpose_consent(who.scope, grant_purpose_consent(
            consent_id=new_id("pcon", t), tenant_id=who.scope.tenant_id,
            customer_id=who.customer_id, purpose=Purpose.BOARDING,
            accepted_digest=body.consent_digest, now=now_utc(t)))
    session = open_owned_challenge(fc, who.scope, board_service.BOARD_ENROL_PURPOSE,
                                   who.customer_id, None, who.owner, t,
                                   parse_capability(body.capability))
    return session_json(session)


@router.post("/boarding/enrolments/{session_id}/complete")
def post_passenger_enrolment_complete(session_id: str, request: Request,
                                      who: WalletCaller = Depends(require_wallet)
                                      ) -> dict[str, Any]:
    fc = face_of(request)
    session = fc.sessions.get(session_id, who.owner)
    if (session.purpose != board_service.BOARD_ENROL_PURPOSE
            or session.subject_id != who.customer_id):
        raise NotFound(f"expected a boarding enrolment session, got {session_id!r}",
                       param="session")
    template = board_service.finish_passenger_enrolment(fc, boarding_of(request), who.scope,
                                                        who.customer_id, session,
                                                        now_ms(request))
    return {"object": "boarding_enrolment", "customer": who.customer_id, "template": template}


# --- the gate --------------------------------------------------------------------------------
def _owner(caller: Caller) -> str:
    return api_key_owner(caller.terminal_id, caller.key_id)


@router.post("/departures/{departure_id}/gate")
def post_gate(departure_id: str, request: Request,
              caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    if boarding_of(request).records.get_departure(caller.scope, departure_id) is None:
        raise NotFound(f"expected a departure of this account, got {departure_id!r}",
                       param="departure")
    session = open_owned_challenge(face_of(request), caller.scope, board_service.BOARD_PURPOSE,
                                   departure_id, caller.terminal_id, _owner(caller),
                                   now_ms(request), parse_capability("rgb"))
    return session_json(session)


@router.post("/departures/{departure_id}/gate/{session_id}/board")
def post_board(departure_id: str, session_id: str, request: Request,
               caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    fc = face_of(request)
    session = fc.sessions.get(session_id, _owner(caller))
    if session.scope != caller.scope:
        raise NotFound(f"expected an open face session, got {session_id!r}", param="session")
    return board_service.board_by_face(fc, boarding_of(request), caller.scope, departure_id,
                                       session, now_ms(request))


class QrBody(BaseModel):
    qr: str = Field(min_length=8, max_length=64)
    attempt: str | None = Field(default=None, max_length=40)


@router.post("/departures/{departure_id}/qr")
def post_qr(departure_id: str, body: QrBody, request: Request,
            caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    return board_service.board_by_qr(face_of(request), boarding_of(request), caller.scope,
                                     departure_id, body.qr, now_ms(request), body.attempt)
