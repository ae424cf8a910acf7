"""/v1/identity attendance routes (included by ``routes_identity``).

The employer (secret key) keeps sites, staff and shifts and reads reports; the clock terminal
(terminal key) enrols staff with their own consent, runs the liveness challenge, punches by
face among its site's staff only, and falls back to PIN or badge (offline punches carry the
device time and an HMAC signature under the terminal key).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from smilepay.api.auth import bearer, container_of, require_secret_key, require_terminal_key
from smilepay.api.built_once import built_once
from smilepay.api.routes_face import face_of, now_ms, session_json
from smilepay.api.routes_pages import SECURITY_HEADERS, read_web_file
from smilepay.domain.attendance import ShiftPolicy
from smilepay.domain.purposes import Purpose
from smilepay.errors import InvalidInput, NotFound
from smilepay.services import attendance as att_service
from smilepay.services.attendance import Attendance
from smilepay.services.attendance_reports import report, row_json, to_csv
from smilepay.services.face_feedback import parse_capability
from smilepay.services.face_guard import api_key_owner, open_owned_challenge
from smilepay.services.tenants import Caller

router = APIRouter(tags=["attendance"])
KEY = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


def attendance_of(request: Request) -> Attendance:
    container = container_of(request)

    def build() -> Attendance:
        from smilepay.adapters.sql.gates_attendance import SqlAttendance
        from smilepay.adapters.sql.gates_store import SqlGatesStore
        from smilepay.adapters.sql.gates_templates import SqlGateTemplates
        from smilepay.services.identity_matching import SealedTemplateMatcher

        engine = container.store.engine
        templates = SqlGateTemplates(engine)
        return Attendance(SqlAttendance(engine), templates, SqlGatesStore(engine),
                          SealedTemplateMatcher(templates, face_of(request).open_vector),
                          ShiftPolicy())

    return built_once(container, "attendance", build)


class SiteBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)


@router.post("/sites")
def post_site(body: SiteBody, request: Request,
              caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    site_id = att_service.add_site(attendance_of(request), caller.scope, body.name,
                                   now_ms(request))
    return {"id": site_id, "object": "site", "name": body.name}


class StaffBody(BaseModel):
    site: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(default="staff", max_length=16)
    pin: str = Field(min_length=4, max_length=8)
    badge: str | None = Field(default=None, max_length=64)


@router.post("/staff")
def post_staff(body: StaffBody, request: Request,
               caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    member = att_service.add_staff(face_of(request), attendance_of(request), caller.scope,
                                   body.site, body.name, body.role, body.pin, body.badge,
                                   now_ms(request))
    return {"id": member.staff_id, "object": "staff", "site": member.site_id,
            "name": member.name, "role": member.role}


class ShiftBody(BaseModel):
    staff: str = Field(max_length=40)
    start_ms: int = Field(gt=0)
    end_ms: int = Field(gt=0)


@router.post("/shifts")
def post_shift(body: ShiftBody, request: Request,
               caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    shift = att_service.add_shift(
        attendance_of(request), caller.scope, body.staff,
        datetime.fromtimestamp(body.start_ms / 1000, UTC),
        datetime.fromtimestamp(body.end_ms / 1000, UTC), now_ms(request))
    return {"id": shift.shift_id, "object": "shift", "staff": shift.staff_id,
            "site": shift.site_id, "start_ms": body.start_ms, "end_ms": body.end_ms}


@router.get("/sites/{site_id}/report", response_model=None)
def get_report(site_id: str, request: Request, start_ms: int, period: str = "day",
               format: str = "json", caller: Caller = Depends(require_secret_key)
               ) -> dict[str, Any] | Response:
    att = attendance_of(request)
    rows = report(att.records, caller.scope, site_id,
                  datetime.fromtimestamp(start_ms / 1000, UTC), period, att.policy)
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="attendance-{site_id}.csv"'})
    return {"object": "attendance_report", "site": site_id, "period": period,
            "data": [row_json(r) for r in rows]}


@router.delete("/staff/{staff_id}/face")
def delete_staff_face(staff_id: str, request: Request,
                      caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """Erase a staff member's attendance template and revoke their attendance consent (their
    punches stay: they are the employer's time records, not biometric data)."""
    att, t = attendance_of(request), now_ms(request)
    if att.records.get_staff(caller.scope, staff_id) is None:
        raise NotFound(f"expected a staff member of this account, got {staff_id!r}",
                       param="staff")
    removed = att.templates.delete_of(caller.scope, Purpose.ATTENDANCE, staff_id)
    att.matcher.forget(removed)
    revoked = att.consents.revoke_purpose(caller.scope, staff_id, Purpose.ATTENDANCE, t)
    face_of(request).audit(caller.scope, "purpose_erase", "accepted", (), staff_id, t,
                           {"purpose": "attendance", "templates_erased": len(removed),
                            "consents_revoked": revoked})
    return {"object": "purpose_erasure", "purpose": "attendance", "staff": staff_id,
            "records_erased": len(removed), "consents_revoked": revoked}


# --- the clock terminal ---------------------------------------------------------------------
class StaffEnrolBody(BaseModel):
    consent_digest: str = Field(min_length=64, max_length=64)
    capability: str = Field(default="rgb", max_length=16)


def _owner(caller: Caller) -> str:
    return api_key_owner(caller.terminal_id, caller.key_id)


@router.post("/staff/{staff_id}/enrolments")
def post_staff_enrolment(staff_id: str, body: StaffEnrolBody, request: Request,
                         caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    att, fc, t = attendance_of(request), face_of(request), now_ms(request)
    att_service.record_staff_consent(att, caller.scope, staff_id, body.consent_digest, t)
    session = open_owned_challenge(fc, caller.scope, att_service.STAFF_ENROL_PURPOSE, staff_id,
                                   caller.terminal_id, _owner(caller), t,
                                   parse_capability(body.capability))
    return session_json(session)


@router.post("/staff/{staff_id}/enrolments/{session_id}/complete")
def post_staff_enrolment_complete(staff_id: str, session_id: str, request: Request,
                                  caller: Caller = Depends(require_terminal_key)
                                  ) -> dict[str, Any]:
    fc = face_of(request)
    session = fc.sessions.get(session_id, _owner(caller))
    if session.subject_id != staff_id or session.purpose != att_service.STAFF_ENROL_PURPOSE:
        raise NotFound(f"expected an enrolment session of {staff_id!r}, got another",
                       param="session")
    template = att_service.finish_staff_enrolment(fc, attendance_of(request), caller.scope,
                                                  staff_id, session, now_ms(request))
    return {"object": "staff_enrolment", "staff": staff_id, "template": template}


class ClockBody(BaseModel):
    capability: str = Field(default="rgb", max_length=16)


@router.post("/sites/{site_id}/clock")
def post_clock(site_id: str, request: Request, body: ClockBody | None = None,
               caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    att = attendance_of(request)
    if not att.records.site_exists(caller.scope, site_id):
        raise NotFound(f"expected a site of this account, got {site_id!r}", param="site")
    session = open_owned_challenge(face_of(request), caller.scope, att_service.CLOCK_PURPOSE,
                                   site_id, caller.terminal_id, _owner(caller), now_ms(request),
                                   parse_capability((body or ClockBody()).capability))
    return session_json(session)


class PunchBody(BaseModel):
    idempotency_key: str = KEY


@router.post("/sites/{site_id}/clock/{session_id}/punch")
def post_face_punch(site_id: str, session_id: str, body: PunchBody, request: Request,
                    caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    fc = face_of(request)
    session = fc.sessions.get(session_id, _owner(caller))
    if session.scope != caller.scope:
        raise NotFound(f"expected an open face session, got {session_id!r}", param="session")
    return att_service.punch_by_face(fc, attendance_of(request), caller.scope, site_id, session,
                                     body.idempotency_key, now_ms(request))


class ManualPunchBody(BaseModel):
    method: str = Field(max_length=8)
    secret: str = Field(min_length=4, max_length=64)
    idempotency_key: str = KEY
    device_at_ms: int | None = Field(default=None, gt=0)
    signature: str | None = Field(default=None, max_length=64)


def offline_signature(terminal_key: str, site_id: str, method: str, device_at_ms: int,
                      key: str) -> str:
    """HMAC-SHA256 under sha256(terminal key) of ``site|method|device_at_ms|key``: what the
    page computes when it queues a punch offline (WebCrypto)."""
    secret = hashlib.sha256(terminal_key.encode()).hexdigest().encode()
    return hmac.new(secret, f"{site_id}|{method}|{device_at_ms}|{key}".encode(),
                    hashlib.sha256).hexdigest()


TOO_MANY_PINS: dict[int | str, dict[str, Any]] = {429: {
    "description": "Too many wrong PINs or badges from this terminal or at this site in the "
                   "last minutes: every PIN is refused, a right one too, until the window has "
                   "passed"}}


@router.post("/sites/{site_id}/punches", responses=TOO_MANY_PINS)
def post_manual_punch(site_id: str, body: ManualPunchBody, request: Request,
                      credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
                      caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    """A PIN or badge punch, manual until a manager approves it. Wrong PINs and badges are
    counted per terminal and per site (5 per terminal, 20 per site in 15 minutes); past that,
    429 "Too many wrong PINs. Ask your manager." until the window has passed."""
    if body.device_at_ms is not None:
        token = credentials.credentials if credentials else ""
        expected = offline_signature(token, site_id, body.method, body.device_at_ms,
                                     body.idempotency_key)
        if body.signature is None or not hmac.compare_digest(
                expected.encode(), body.signature.encode()):
            raise InvalidInput("expected the offline punch's signature, got a wrong or no one",
                               param="signature")
    return att_service.punch_manual(face_of(request), attendance_of(request), caller.scope,
                                    site_id, body.method, body.secret, body.idempotency_key,
                                    now_ms(request), body.device_at_ms, terminal=_owner(caller))


class ApproveBody(BaseModel):
    manager_pin: str = Field(min_length=4, max_length=8)


@router.post("/punches/{punch_id}/approve", responses=TOO_MANY_PINS)
def post_approve(punch_id: str, body: ApproveBody, request: Request,
                 caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    """A manager's approval of a manual punch, with their PIN; wrong manager PINs count with
    the punches' wrong PINs (same limits, same 429)."""
    return att_service.approve_punch(face_of(request), attendance_of(request), caller.scope,
                                     punch_id, body.manager_pin, now_ms(request),
                                     terminal=_owner(caller))


# --- the pages: clock terminal, KYC, boarding gate -----------------------------------------------
pages = APIRouter(include_in_schema=False)


@pages.get("/identity/clock", response_class=HTMLResponse)
def clock_page() -> HTMLResponse:
    """The clock terminal; set-up in the fragment: #key=tk_...&site=site_..."""
    return HTMLResponse(read_web_file("templates", "clock.html"), headers=SECURITY_HEADERS)


@pages.get("/identity/kyc", response_class=HTMLResponse)
def kyc_page() -> HTMLResponse:
    """Identity verification for a wallet customer (#token=ws_... or the wallet's session)."""
    return HTMLResponse(read_web_file("templates", "kyc.html"), headers=SECURITY_HEADERS)


@pages.get("/identity/boarding", response_class=HTMLResponse)
def boarding_page() -> HTMLResponse:
    """The boarding gate; set-up in the fragment: #key=tk_...&departure=dep_..."""
    return HTMLResponse(read_web_file("templates", "boarding.html"), headers=SECURITY_HEADERS)


PAGE_SCRIPTS = frozenset({"clock.js", "kyc.js", "boarding.js"})


@pages.get("/identity/static/{name}")
def page_script(name: str) -> Response:
    if name not in PAGE_SCRIPTS:
        raise NotFound(f"expected an identity page file, got {name[:40]!r}")
    return Response(read_web_file("static", name),
                    media_type="text/javascript; charset=utf-8", headers=SECURITY_HEADERS)
