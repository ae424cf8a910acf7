"""Staff clock-in: sites, staff, shifts, face punches among one site's staff, PIN/badge fallback.

A failed face never creates or refuses a punch: the terminal falls back to a PIN or badge
punch, marked manual, which counts once a manager of the same site approves it. Punches are
idempotent (a key per punch) and a second punch within a minute is the first one.

PINs are short (4 digits), so guessing is limited (``PinLimits``): wrong PINs and badges, at
the punch and at a manager's approval alike, are counted per clock terminal and per site in the
shared database (the flow store's rate events, ``FlowStore.take``: every worker sees one
count). Past the limit every PIN or badge try from that terminal (or at that site) is refused
with ``RateLimited`` (429) until the window has moved on, a right PIN included, so a lock tells
nothing about the PIN tried. A lock is audited once (``clock_pin_lock``); no PIN is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from smilepay.domain.attendance import (
    Punch,
    PunchMethod,
    Shift,
    ShiftPolicy,
    StaffMember,
    approve_manual,
    check_rest,
    is_double_punch,
    is_late_sync,
    next_kind,
)
from smilepay.domain.identity import AuditValue
from smilepay.domain.ids import new_id
from smilepay.domain.mandates import RateLimited
from smilepay.domain.purposes import Purpose, grant_purpose_consent
from smilepay.domain.templates import merge_embeddings
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.gates import AttendanceRecords, GatesStore, GateTemplateStore
from smilepay.services.face_context import FaceContext, FrameSession, now_utc, threshold_for
from smilepay.services.identity_matching import GATE_FAR, CandidateMatcher

CLOCK_PURPOSE = "clock"
STAFF_ENROL_PURPOSE = "staff_enrol"
FALLBACK_THRESHOLD = 0.55
TOO_MANY_PINS = "Too many wrong PINs. Ask your manager."
PIN_FAIL_TERMINAL = "clock_pin_terminal"  # flow rate-event kinds: one wrong PIN/badge each
PIN_FAIL_SITE = "clock_pin_site"


@dataclass(frozen=True)
class PinLimits:
    """Wrong PINs/badges allowed, each a ``(window_ms, most)`` sliding window like
    ``FlowRateLimits``: per clock terminal (any of its keys), and per site (all its terminals:
    the site's PINs are what a guess is tried against)."""

    per_terminal: tuple[tuple[int, int], ...] = ((15 * 60_000, 5),)
    per_site: tuple[tuple[int, int], ...] = ((15 * 60_000, 20),)


class PurposeGate(Protocol):
    """What enrolling a gate's template needs (``Attendance``, ``services.boarding.Boarding``)."""

    @property
    def templates(self) -> GateTemplateStore: ...

    @property
    def consents(self) -> GatesStore: ...

    @property
    def matcher(self) -> CandidateMatcher: ...


@dataclass
class Attendance:
    """What the attendance use cases need, built once per app."""

    records: AttendanceRecords
    templates: GateTemplateStore
    consents: GatesStore
    matcher: CandidateMatcher
    policy: ShiftPolicy
    pin_limits: PinLimits = field(default_factory=PinLimits)


def secret_hash(pepper: bytes, scope: Scope, kind: str, value: str) -> str:
    return hmac.new(pepper, f"{kind}|{scope.tenant_id}|{value}".encode(),
                    hashlib.sha256).hexdigest()


def add_site(att: Attendance, scope: Scope, name: str, now_ms: int) -> str:
    site_id = new_id("site", now_ms)
    att.records.add_site(scope, site_id, name[:100], now_ms)
    return site_id


def _site(att: Attendance, scope: Scope, site_id: str) -> None:
    if not att.records.site_exists(scope, site_id):
        raise NotFound(f"expected a site of this account, got {site_id!r}", param="site")


def add_staff(fc: FaceContext, att: Attendance, scope: Scope, site_id: str, name: str,
              role: str, pin: str, badge: str | None, now_ms: int) -> StaffMember:
    _site(att, scope, site_id)
    if role not in {"staff", "manager"}:
        raise InvalidInput(f"expected a role 'staff' or 'manager', got {role!r}", param="role")
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise InvalidInput("expected a PIN of 4 to 8 digits, got another value", param="pin")
    member = StaffMember(new_id("stf", now_ms), site_id, name[:100], role,
                         secret_hash(fc.pepper, scope, "pin", site_id + pin),
                         None if not badge else secret_hash(fc.pepper, scope, "badge", badge))
    att.records.add_staff(scope, member, now_ms)
    return member


def _member(att: Attendance, scope: Scope, staff_id: str) -> StaffMember:
    found = att.records.get_staff(scope, staff_id)
    if found is None:
        raise NotFound(f"expected a staff member of this account, got {staff_id!r}",
                       param="staff")
    return found


def add_shift(att: Attendance, scope: Scope, staff_id: str, start: datetime,
              end: datetime, now_ms: int) -> Shift:
    member = _member(att, scope, staff_id)
    shift = Shift(new_id("shf", now_ms), staff_id, member.site_id, start, end)
    check_rest(att.records.shifts_of(scope, staff_id), shift, att.policy)
    att.records.add_shift(scope, shift)
    return shift


def record_staff_consent(att: Attendance, scope: Scope, staff_id: str, digest: str,
                         now_ms: int) -> None:
    """The staff member's own consent, given on the enrolment page (not the employer's)."""
    _member(att, scope, staff_id)
    att.consents.add_purpose_consent(scope, grant_purpose_consent(
        consent_id=new_id("pcon", now_ms), tenant_id=scope.tenant_id, customer_id=staff_id,
        purpose=Purpose.ATTENDANCE, accepted_digest=digest, now=now_utc(now_ms)))


def passed_probe(fc: FaceContext, session: FrameSession) -> tuple[Any, str] | None:
    """The merged probe of a passed challenge and its model id; None when it did not pass."""
    if session.last_state != "passed" or not session.best or session.model_id is None:
        return None
    best = session.best[: fc.policy.probe_frames]
    return merge_embeddings([v for _, v in best], [max(q, 0.05) for q, _ in best]), \
        session.model_id


def enrol_purpose_template(fc: FaceContext, gate: PurposeGate, purpose: Purpose,
                           scope: Scope, subject_id: str, session: FrameSession, now_ms: int,
                           action: str) -> str:
    """A gate's template of ``subject_id`` for ``purpose`` from a passed challenge (replacing
    theirs), with the purpose's consent required."""
    from smilepay.domain.purposes import require_consent

    require_consent(gate.consents.purpose_consents(scope, subject_id), subject_id, purpose)
    found = passed_probe(fc, session)
    fc.sessions.drop(session.challenge_id)
    if found is None:
        raise InvalidInput(f"expected a passed enrolment challenge, got {session.last_state}",
                           param="session")
    template, model_id = found
    gate.matcher.forget(gate.templates.delete_of(scope, purpose, subject_id))
    sealed = fc.seal(scope, subject_id, template, model_id, 1.0, now_ms)
    gate.templates.add(sealed, purpose)
    fc.audit(scope, action, "accepted", (), subject_id, now_ms, {"model_id": model_id})
    return sealed.template_id


def finish_staff_enrolment(fc: FaceContext, att: Attendance, scope: Scope, staff_id: str,
                           session: FrameSession, now_ms: int) -> str:
    """The staff member's attendance template from a passed challenge (replacing theirs)."""
    return enrol_purpose_template(fc, att, Purpose.ATTENDANCE, scope, staff_id, session,
                                  now_ms, "staff_enrol")


def _store_punch(att: Attendance, scope: Scope, member: StaffMember, method: PunchMethod,
                 key: str, at_ms: int, now_ms: int, score: float | None,
                 flagged: bool = False) -> dict[str, Any]:
    previous = att.records.last_punch(scope, member.staff_id)
    at = now_utc(at_ms)
    if is_double_punch(previous, member.staff_id, at, att.policy) and previous is not None:
        return {**punch_json(previous), "duplicate": True}
    punch = Punch(new_id("pch", now_ms), member.staff_id, member.site_id, at,
                  next_kind(previous), method, None, flagged)
    stored, written = att.records.add_punch(scope, punch, key, now_ms, score)
    return {**punch_json(stored), "duplicate": not written}


def punch_json(punch: Punch) -> dict[str, Any]:
    return {"id": punch.punch_id, "object": "punch", "staff": punch.staff_id,
            "site": punch.site_id, "kind": punch.kind.value, "method": punch.method.value,
            "manual": punch.manual, "approved_by": punch.approved_by, "counts": punch.counts,
            "flagged": punch.flagged, "at_ms": int(punch.at.timestamp() * 1000)}


def punch_by_face(fc: FaceContext, att: Attendance, scope: Scope, site_id: str,
                  session: FrameSession, key: str, now_ms: int) -> dict[str, Any]:
    """Identify among the site's staff only; no match is no punch and offers the fallback."""
    if session.purpose != CLOCK_PURPOSE or session.subject_id != site_id:
        raise NotFound(f"expected a clock session of site {site_id!r}, got another",
                       param="session")
    found = passed_probe(fc, session)
    fc.sessions.drop(session.challenge_id)
    fallback = {"object": "punch_attempt", "state": "no_match", "fallback": ["pin", "badge"]}
    if found is None:
        return {**fallback, "state": "challenge_not_passed"}
    probe, model_id = found
    candidates = att.records.candidates(scope, site_id)  # this site's staff only
    threshold, source = threshold_for(model_id, GATE_FAR, FALLBACK_THRESHOLD)
    decision = att.matcher.identify(probe, model_id, candidates, threshold)
    values: dict[str, AuditValue] = {
        "site": site_id, "candidates": decision.candidates, "threshold": round(threshold, 4),
        "threshold_source": source,
        "best_score": None if decision.best_score is None else round(decision.best_score, 4)}
    if decision.match is None:
        fc.audit(scope, "clock", "refused", ("no_match",), site_id, now_ms, values)
        return fallback
    fc.audit(scope, "clock", "accepted", (), decision.match.subject_id, now_ms,
             {**values, "margin": round(decision.match.margin, 4)})
    member = _member(att, scope, decision.match.subject_id)
    return _store_punch(att, scope, member, PunchMethod.FACE, key, now_ms, now_ms,
                        decision.match.score)


def _pin_counts(att: Attendance, site_id: str, terminal: str
                ) -> tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...]:
    return ((PIN_FAIL_TERMINAL, terminal, att.pin_limits.per_terminal),
            (PIN_FAIL_SITE, site_id, att.pin_limits.per_site))


def _refuse_if_locked(fc: FaceContext, att: Attendance, scope: Scope, site_id: str,
                      terminal: str, kind: str, now_ms: int) -> None:
    """``RateLimited`` while this terminal or this site has too many wrong PINs in a window,
    before the PIN is looked at (a right PIN is refused too: the answer is no oracle)."""
    for count, key, limits in _pin_counts(att, site_id, terminal):
        refused = fc.flow.take(scope, count, key, now_ms, limits, record=False)
        if refused is not None:
            window_ms, most = refused
            fc.audit(scope, kind, "refused", ("too_many_attempts", f"locked_{count}"), site_id,
                     now_ms, {"site": site_id, "window_s": window_ms // 1000, "most": most})
            raise RateLimited(TOO_MANY_PINS, retry_after_s=window_ms // 1000)


def _count_wrong_pin(fc: FaceContext, att: Attendance, scope: Scope, site_id: str,
                     terminal: str, kind: str, method: str, now_ms: int) -> None:
    """One wrong PIN or badge on both counts; the try that reaches a limit audits the lock
    (once; two parallel tries may both see it reached and audit it twice)."""
    for count, key, limits in _pin_counts(att, site_id, terminal):
        if fc.flow.take(scope, count, key, now_ms, limits) is not None:
            continue  # already locked (a parallel try got there first): counted once
        reached = fc.flow.take(scope, count, key, now_ms, limits, record=False)
        if reached is not None:
            window_ms, most = reached
            fc.audit(scope, "clock_pin_lock", "locked", ("too_many_wrong_pins",), site_id,
                     now_ms, {"site": site_id, "count": count, "terminal": terminal,
                              "attempt": kind, "method": method,
                              "window_s": window_ms // 1000, "most": most})


def punch_manual(fc: FaceContext, att: Attendance, scope: Scope, site_id: str, method: str,
                 secret: str, key: str, now_ms: int,
                 device_at_ms: int | None = None, *, terminal: str) -> dict[str, Any]:
    """A PIN or badge punch (manual, pending a manager); an offline one keeps its device time
    and is flagged when synced outside the window. ``terminal``: who tries (``api_key_owner``),
    the key its wrong PINs are counted under."""
    chosen = PunchMethod(method) if method in {"pin", "badge"} else None
    if chosen is None:
        raise InvalidInput(f"expected a method 'pin' or 'badge', got {method!r}", param="method")
    _refuse_if_locked(fc, att, scope, site_id, terminal, "clock_manual", now_ms)
    wanted = secret_hash(fc.pepper, scope, chosen.value,
                         site_id + secret if chosen is PunchMethod.PIN else secret)
    for member in att.records.staff_of_site(scope, site_id):
        held = member.pin_hash if chosen is PunchMethod.PIN else member.badge_hash
        if held is not None and hmac.compare_digest(held, wanted):
            at_ms = device_at_ms if device_at_ms is not None else now_ms
            flagged = is_late_sync(now_utc(at_ms), now_utc(now_ms), att.policy)
            return _store_punch(att, scope, member, chosen, key, at_ms, now_ms, None, flagged)
    fc.audit(scope, "clock_manual", "refused", ("unknown_" + chosen.value,), site_id, now_ms, {})
    _count_wrong_pin(fc, att, scope, site_id, terminal, "punch", chosen.value, now_ms)
    raise NotFound(f"expected the {chosen.value} of a staff member of this site, got no match",
                   param=chosen.value)


def approve_punch(fc: FaceContext, att: Attendance, scope: Scope, punch_id: str,
                  manager_pin: str, now_ms: int, *, terminal: str) -> dict[str, Any]:
    """A manager's approval of a manual punch; wrong manager PINs share the punch's count."""
    punch = att.records.get_punch(scope, punch_id)
    if punch is None:
        raise NotFound(f"expected a punch of this account, got {punch_id!r}", param="punch")
    _refuse_if_locked(fc, att, scope, punch.site_id, terminal, "clock_approve", now_ms)
    wanted = secret_hash(fc.pepper, scope, "pin", punch.site_id + manager_pin)
    managers = [m for m in att.records.staff_of_site(scope, punch.site_id)
                if m.role == "manager" and hmac.compare_digest(m.pin_hash, wanted)]
    if not managers:
        fc.audit(scope, "clock_approve", "refused", ("unknown_manager_pin",), punch.staff_id,
                 now_ms, {"punch": punch_id})
        _count_wrong_pin(fc, att, scope, punch.site_id, terminal, "approve", "pin", now_ms)
        raise NotFound("expected the PIN of a manager of the punch's site, got no match",
                       param="manager_pin")
    approved = approve_manual(punch, managers[0].staff_id)
    att.records.approve(scope, punch_id, managers[0].staff_id)
    fc.audit(scope, "clock_approve", "accepted", (), punch.staff_id, now_ms,
             {"punch": punch_id, "manager": managers[0].staff_id})
    return punch_json(approved)
