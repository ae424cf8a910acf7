"""The gates' retention sweep in SQL: rows past their purpose's retention, across tenants.

- punches older than the attendance retention (by the punch's time);
- boarding: tickets of departures that closed before the boarding retention, and gate attempts
  older than it (the departures themselves name no person and stay);
- identity verifications created before the identity-verification retention;
- gate templates of subjects inactive for their purpose's retention: a staff member with no
  punch since the cut-off, a passenger with no ticket on a departure closing after it, a
  customer whose face no store gate accepted since it (the ``store_gate`` audit: entry and
  exit) (a template younger than the cut-off stays).

Each call deletes in one transaction and returns the deleted rows' count per scope, for the
audit; nothing personal is returned.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Engine, Table, delete, exists, func, select
from sqlalchemy.engine import Connection

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.gates_schema import (
    departures,
    gate_attempts,
    gate_templates,
    identity_verifications,
    punches,
    tickets,
)
from smilepay.adapters.sql.identity_schema import face_audit
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope

Counts = dict[Scope, int]


def _counted(c: Connection, table: Table, where: Any) -> Counts:
    rows = c.execute(select(table.c.tenant_id, table.c.livemode, func.count())
                     .where(where).group_by(table.c.tenant_id, table.c.livemode)).all()
    found = {Scope(r[0], bool(r[1])): int(r[2]) for r in rows}
    if found:
        c.execute(delete(table).where(where))
    return found


def _same_scope(a: Table, b: Table) -> Any:
    return (a.c.tenant_id == b.c.tenant_id) & (a.c.livemode == b.c.livemode)


class SqlGatesRetention:
    def __init__(self, engine: Engine) -> None:
        self._runner = TransactionRunner(engine)

    def purge_punches(self, before_ms: int) -> Counts:
        return self._runner.run(lambda c: _counted(c, punches, punches.c.at_ms < before_ms),
                                write=True)

    def purge_boarding(self, before_ms: int) -> Counts:
        def run(c: Connection) -> Counts:
            closed = select(departures.c.id).where(_same_scope(departures, tickets)
                                                   & (departures.c.id == tickets.c.departure_id)
                                                   & (departures.c.closes_ms < before_ms))
            total = Counter(_counted(c, tickets, exists(closed)))
            total.update(_counted(c, gate_attempts, gate_attempts.c.at_ms < before_ms))
            return dict(total)

        return self._runner.run(run, write=True)

    def purge_verifications(self, before_ms: int) -> Counts:
        t = identity_verifications
        return self._runner.run(lambda c: _counted(c, t, t.c.created_at_ms < before_ms),
                                write=True)

    def purge_inactive_templates(self, purpose: Purpose, before_ms: int) -> Counts:
        """Templates of ``purpose`` made before ``before_ms`` whose subject has not used them
        since: no punch (attendance), no ticket on a departure closing after it (boarding), no
        face accepted at a store gate (store entry)."""
        t = gate_templates
        if purpose is Purpose.ATTENDANCE:
            active = select(punches.c.id).where(_same_scope(punches, t)
                                                & (punches.c.staff_id == t.c.subject_id)
                                                & (punches.c.at_ms >= before_ms))
        elif purpose is Purpose.BOARDING:
            active = select(tickets.c.id).where(
                _same_scope(tickets, t) & (tickets.c.customer_id == t.c.subject_id)
                & exists(select(departures.c.id).where(
                    _same_scope(departures, tickets)
                    & (departures.c.id == tickets.c.departure_id)
                    & (departures.c.closes_ms >= before_ms))))
        elif purpose is Purpose.STORE_ENTRY:  # the gates' copy of the payment face
            a = face_audit
            active = select(a.c.id).where(_same_scope(a, t) & (a.c.subject_id == t.c.subject_id)
                                          & (a.c.kind == "store_gate")
                                          & (a.c.decision == "accepted")
                                          & (a.c.at_ms >= before_ms))
        else:
            raise ValueError(f"expected attendance, boarding or store entry, got "
                             f"{purpose.value}")
        where = ((t.c.purpose == purpose.value) & (t.c.created_at_ms < before_ms)
                 & ~exists(active))
        return self._runner.run(lambda c: _counted(c, t, where), write=True)
