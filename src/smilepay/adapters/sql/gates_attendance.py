"""Attendance records: sites, staff, shifts and punches (SQLite or PostgreSQL).

A punch is written once per idempotency key (a unique index): a retried request, or two
workers racing on one, read back the first punch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.gates_schema import gate_templates, punches, shifts, sites, staff
from smilepay.adapters.sql.identity_store import from_ms
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.attendance import Punch, PunchKind, PunchMethod, Shift, StaffMember
from smilepay.domain.tenants import Scope


class SqlAttendance:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def _write(self, statement: Any) -> Any:
        return self._runner.run(lambda c: c.execute(statement), write=True)

    def add_site(self, scope: Scope, site_id: str, name: str, now_ms: int) -> None:
        self._write(insert(sites).values(id=site_id, tenant_id=scope.tenant_id,
                                         livemode=scope.livemode, name=name,
                                         created_at_ms=now_ms))

    def site_exists(self, scope: Scope, site_id: str) -> bool:
        row = self._runner.run(lambda c: c.execute(select(sites.c.id).where(
            in_scope(sites, scope) & (sites.c.id == site_id))).first(), write=False)
        return row is not None

    def add_staff(self, scope: Scope, member: StaffMember, now_ms: int) -> None:
        self._write(insert(staff).values(
            id=member.staff_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            site_id=member.site_id, name=member.name, role=member.role,
            pin_hash=member.pin_hash, badge_hash=member.badge_hash, created_at_ms=now_ms))

    @staticmethod
    def _member(r: Any) -> StaffMember:
        return StaffMember(r.id, r.site_id, r.name, r.role, r.pin_hash, r.badge_hash)

    def staff_of_site(self, scope: Scope, site_id: str) -> list[StaffMember]:
        rows = self._runner.run(lambda c: c.execute(select(staff).where(
            in_scope(staff, scope) & (staff.c.site_id == site_id)).order_by(staff.c.id)).all(),
            write=False)
        return [self._member(r) for r in rows]

    def candidates(self, scope: Scope, site_id: str) -> list[str]:
        """The attendance template ids of the site's staff: one indexed join."""
        t = gate_templates
        return self._runner.run(lambda c: list(c.execute(
            select(t.c.id).select_from(staff).join(t, t.c.subject_id == staff.c.id).where(
                in_scope(t, scope) & (t.c.purpose == "attendance") & in_scope(staff, scope)
                & (staff.c.site_id == site_id))).scalars()), write=False)

    def get_staff(self, scope: Scope, staff_id: str) -> StaffMember | None:
        row = self._runner.run(lambda c: c.execute(select(staff).where(
            in_scope(staff, scope) & (staff.c.id == staff_id))).first(), write=False)
        return None if row is None else self._member(row)

    def add_shift(self, scope: Scope, shift: Shift) -> None:
        self._write(insert(shifts).values(
            id=shift.shift_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            staff_id=shift.staff_id, site_id=shift.site_id,
            start_ms=int(shift.start.timestamp() * 1000),
            end_ms=int(shift.end.timestamp() * 1000)))

    def shifts_between(self, scope: Scope, site_id: str, start_ms: int,
                       end_ms: int) -> list[Shift]:
        rows = self._runner.run(lambda c: c.execute(select(shifts).where(
            in_scope(shifts, scope) & (shifts.c.site_id == site_id) & (shifts.c.end_ms > start_ms)
            & (shifts.c.start_ms < end_ms)).order_by(shifts.c.start_ms)).all(), write=False)
        return [Shift(r.id, r.staff_id, r.site_id, from_ms(r.start_ms),  # type: ignore[arg-type]
                      from_ms(r.end_ms)) for r in rows]  # type: ignore[arg-type]

    def shifts_of(self, scope: Scope, staff_id: str) -> list[Shift]:
        rows = self._runner.run(lambda c: c.execute(select(shifts).where(
            in_scope(shifts, scope) & (shifts.c.staff_id == staff_id))).all(), write=False)
        return [Shift(r.id, r.staff_id, r.site_id, from_ms(r.start_ms),  # type: ignore[arg-type]
                      from_ms(r.end_ms)) for r in rows]  # type: ignore[arg-type]

    @staticmethod
    def _punch(r: Any) -> Punch:
        return Punch(r.id, r.staff_id, r.site_id, from_ms(r.at_ms),  # type: ignore[arg-type]
                     PunchKind(r.kind), PunchMethod(r.method), r.approved_by, bool(r.flagged))

    def add_punch(self, scope: Scope, punch: Punch, key: str, received_at_ms: int,
                  score: float | None) -> tuple[Punch, bool]:
        """(the punch stored under ``key``, True when this call wrote it)."""
        row = {"id": punch.punch_id, "tenant_id": scope.tenant_id, "livemode": scope.livemode,
               "idempotency_key": key, "staff_id": punch.staff_id, "site_id": punch.site_id,
               "kind": punch.kind.value, "method": punch.method.value,
               "at_ms": int(punch.at.timestamp() * 1000), "received_at_ms": received_at_ms,
               "approved_by": punch.approved_by, "flagged": punch.flagged, "score": score}
        try:
            self._write(insert(punches).values(**row))
            return punch, True
        except IntegrityError:
            found = self.punch_by_key(scope, key)
            if found is None:
                raise
            return found, False

    def punch_by_key(self, scope: Scope, key: str) -> Punch | None:
        row = self._runner.run(lambda c: c.execute(select(punches).where(
            in_scope(punches, scope) & (punches.c.idempotency_key == key))).first(), write=False)
        return None if row is None else self._punch(row)

    def last_punch(self, scope: Scope, staff_id: str) -> Punch | None:
        row = self._runner.run(lambda c: c.execute(select(punches).where(
            in_scope(punches, scope) & (punches.c.staff_id == staff_id)).order_by(
            punches.c.at_ms.desc()).limit(1)).first(), write=False)
        return None if row is None else self._punch(row)

    def punches_between(self, scope: Scope, site_id: str, start_ms: int,
                        end_ms: int) -> list[Punch]:
        rows = self._runner.run(lambda c: c.execute(select(punches).where(
            in_scope(punches, scope) & (punches.c.site_id == site_id)
            & (punches.c.at_ms >= start_ms) & (punches.c.at_ms < end_ms)).order_by(
            punches.c.at_ms)).all(), write=False)
        return [self._punch(r) for r in rows]

    def get_punch(self, scope: Scope, punch_id: str) -> Punch | None:
        row = self._runner.run(lambda c: c.execute(select(punches).where(
            in_scope(punches, scope) & (punches.c.id == punch_id))).first(), write=False)
        return None if row is None else self._punch(row)

    def approve(self, scope: Scope, punch_id: str, manager_id: str) -> bool:
        result = self._write(update(punches).where(
            in_scope(punches, scope) & (punches.c.id == punch_id)
            & punches.c.approved_by.is_(None)).values(approved_by=manager_id))
        return bool(result.rowcount == 1)
