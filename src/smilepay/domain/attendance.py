"""Staff attendance rules: punches, double punches, shifts, grace, early/late, overtime, rest.

Pure rules over aware datetimes. A failed face never creates or refuses a punch: it falls back
to a PIN or badge punch that is marked manual and counts only once a manager approves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from smilepay.errors import InvalidInput, SmilePayError


class PunchKind(StrEnum):
    IN = "in"
    OUT = "out"


class PunchMethod(StrEnum):
    FACE = "face"
    PIN = "pin"
    BADGE = "badge"

    @property
    def manual(self) -> bool:
        return self is not PunchMethod.FACE


class ManualPunchNotApproved(SmilePayError):
    code = "manual_punch_not_approved"


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    site_id: str
    name: str
    role: str  # "staff" | "manager"
    pin_hash: str  # keyed hashes, never the PIN or badge
    badge_hash: str | None


@dataclass(frozen=True)
class ShiftPolicy:
    grace: timedelta = timedelta(minutes=5)  # late arrival / early leave within it is on time
    overtime_after: timedelta = timedelta(minutes=15)  # past the shift end before it counts
    min_rest: timedelta = timedelta(hours=11)  # between the end of one shift and the next start
    double_punch: timedelta = timedelta(minutes=1)  # two punches within it are one
    offline_window: timedelta = timedelta(hours=24)  # an offline punch synced later is flagged


@dataclass(frozen=True)
class Punch:
    punch_id: str
    staff_id: str
    site_id: str
    at: datetime
    kind: PunchKind
    method: PunchMethod = PunchMethod.FACE
    approved_by: str | None = None  # a manager, for manual punches
    flagged: bool = False  # e.g. an offline punch synced outside the window

    @property
    def manual(self) -> bool:
        return self.method.manual

    @property
    def counts(self) -> bool:
        """A face punch counts at once; a manual one after a manager's approval."""
        return not self.manual or self.approved_by is not None


def approve_manual(punch: Punch, manager_id: str) -> Punch:
    if not punch.manual:
        raise InvalidInput(f"expected a manual punch to approve, got a {punch.method.value} punch")
    if manager_id == punch.staff_id:
        raise ManualPunchNotApproved("expected a manager other than the staff member, got the "
                                     "staff member")
    return replace(punch, approved_by=manager_id)


def is_double_punch(previous: Punch | None, staff_id: str, at: datetime,
                    policy: ShiftPolicy) -> bool:
    """A punch by the same staff member within the double-punch window of the previous one."""
    return (previous is not None and previous.staff_id == staff_id
            and abs(at - previous.at) < policy.double_punch)


def next_kind(previous: Punch | None) -> PunchKind:
    """In after nothing or an out; out after an in (the terminal needs no button)."""
    return PunchKind.OUT if previous is not None and previous.kind is PunchKind.IN else PunchKind.IN


def dedupe(punches: Sequence[Punch], policy: ShiftPolicy) -> list[Punch]:
    """Punches in time order with double punches (per staff member) folded into the first."""
    kept: list[Punch] = []
    last: dict[str, Punch] = {}
    for punch in sorted(punches, key=lambda p: p.at):
        if is_double_punch(last.get(punch.staff_id), punch.staff_id, punch.at, policy):
            continue
        kept.append(punch)
        last[punch.staff_id] = punch
    return kept


def is_late_sync(device_at: datetime, received_at: datetime, policy: ShiftPolicy) -> bool:
    """An offline punch synced outside the window: accepted, but flagged for review."""
    return received_at - device_at > policy.offline_window or device_at - received_at > timedelta(
        minutes=5)


@dataclass(frozen=True)
class Shift:
    shift_id: str
    staff_id: str
    site_id: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput(f"expected a shift end after its start, got {self.start} to "
                               f"{self.end}")


@dataclass(frozen=True)
class ShiftOutcome:
    shift_id: str
    clock_in: datetime | None
    clock_out: datetime | None
    late_minutes: int  # past the start, 0 within the grace period
    early_leave_minutes: int  # before the end, 0 within the grace period
    early_arrival_minutes: int  # before the start (not paid unless approved)
    overtime_minutes: int  # past the end plus ``overtime_after``
    worked_minutes: int
    marks: tuple[str, ...]  # "late", "early_leave", "overtime", "missing_in", "missing_out",
    # "absent", "pending_approval"


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def evaluate_shift(shift: Shift, punches: Sequence[Punch], policy: ShiftPolicy) -> ShiftOutcome:
    """The shift's first counted in and last counted out among ``punches`` of its staff member."""
    own = [p for p in dedupe(punches, policy) if p.staff_id == shift.staff_id]
    pending = any(not p.counts for p in own)
    counted = [p for p in own if p.counts]
    ins = [p.at for p in counted if p.kind is PunchKind.IN]
    outs = [p.at for p in counted if p.kind is PunchKind.OUT]
    clock_in = min(ins) if ins else None
    clock_out = max((t for t in outs if clock_in is None or t > clock_in), default=None)
    marks: list[str] = []
    late = early_leave = early_arrival = overtime = worked = 0
    if clock_in is None and clock_out is None:
        marks.append("absent")
    if clock_in is None and clock_out is not None:
        marks.append("missing_in")
    if clock_in is not None:
        if clock_in - shift.start > policy.grace:
            late = _minutes(clock_in - shift.start)
            marks.append("late")
        early_arrival = _minutes(shift.start - clock_in)
        if clock_out is None:
            marks.append("missing_out")
    if clock_out is not None:
        if shift.end - clock_out > policy.grace:
            early_leave = _minutes(shift.end - clock_out)
            marks.append("early_leave")
        if clock_out - shift.end > policy.overtime_after:
            overtime = _minutes(clock_out - shift.end)
            marks.append("overtime")
    if clock_in is not None and clock_out is not None:
        worked = _minutes(clock_out - max(clock_in, shift.start))  # early arrival unpaid
    if pending:
        marks.append("pending_approval")
    return ShiftOutcome(shift.shift_id, clock_in, clock_out, late, early_leave, early_arrival,
                        overtime, worked, tuple(marks))


def rest_violations(shifts: Sequence[Shift], policy: ShiftPolicy) -> list[tuple[str, str, int]]:
    """(shift before, shift after, rest minutes) for each staff member's consecutive shifts
    with less than the minimum rest between them."""
    found: list[tuple[str, str, int]] = []
    by_staff: dict[str, list[Shift]] = {}
    for s in shifts:
        by_staff.setdefault(s.staff_id, []).append(s)
    for own in by_staff.values():
        ordered = sorted(own, key=lambda s: s.start)
        for before, after in pairwise(ordered):
            rest = after.start - before.end
            if rest < policy.min_rest:
                found.append((before.shift_id, after.shift_id, _minutes(rest)))
    return found


def check_rest(existing: Sequence[Shift], new: Shift, policy: ShiftPolicy) -> None:
    """Refuse scheduling ``new`` when it leaves less than the minimum rest around another shift."""
    bad = [v for v in rest_violations([*existing, new], policy) if new.shift_id in v[:2]]
    if bad:
        raise InvalidInput(f"expected at least {_minutes(policy.min_rest)} minutes of rest "
                           f"between shifts, got {bad[0][2]}", param="start")
