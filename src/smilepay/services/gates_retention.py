"""The gates' retention sweep: what each purpose's consent text says is kept, for as long as it
says (``domain.purposes.PURPOSE_TEXTS``), then deleted; run by ``smilepay purge-expired``.

- attendance (180 days): punches by their time; the attendance template of a staff member
  with no punch in that time;
- boarding (365 days): tickets of departures closed that long ago, gate attempts; the boarding
  template of a passenger with no ticket on a departure closing within it;
- identity verification (3 years): the verification outcomes;
- store entry (365 days): the gates' copy of the payment template of a customer whose face no
  store gate (entry or exit) accepted in that time.

Each deletion is audited per tenant space with its count only (kind ``retention``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from smilepay.domain.purposes import Purpose, purpose_text
from smilepay.domain.tenants import Scope
from smilepay.services.face_context import FaceContext

Counts = dict[Scope, int]
Audit = Callable[[Scope, dict[str, int]], None]


class GatesRetention(Protocol):
    def purge_punches(self, before_ms: int) -> Counts: ...
    def purge_boarding(self, before_ms: int) -> Counts: ...
    def purge_verifications(self, before_ms: int) -> Counts: ...
    def purge_inactive_templates(self, purpose: Purpose, before_ms: int) -> Counts: ...


def cutoff_ms(purpose: Purpose, now_ms: int) -> int:
    days = purpose_text(purpose).retention_days
    return now_ms - int(timedelta(days=days).total_seconds() * 1000)


@dataclass
class SweepReport:
    deleted: dict[str, int] = field(default_factory=dict)  # what -> rows, all scopes

    def add(self, what: str, counts: Counts) -> None:
        self.deleted[what] = self.deleted.get(what, 0) + sum(counts.values())


def face_audit(fc: FaceContext, now_ms: int) -> Audit:
    """Audit one tenant space's deletions (counts only) in the face audit."""
    def write(scope: Scope, counts: dict[str, int]) -> None:
        fc.audit(scope, "retention", "deleted", tuple(sorted(counts)), None, now_ms,
                 dict(counts))

    return write


def sweep_gates(retention: GatesRetention, now_ms: int, audit: Audit) -> SweepReport:
    report = SweepReport()
    per_scope: dict[Scope, dict[str, int]] = {}

    def record(what: str, counts: Counts) -> None:
        report.add(what, counts)
        for scope, n in counts.items():
            per_scope.setdefault(scope, {})[what] = n

    attendance = cutoff_ms(Purpose.ATTENDANCE, now_ms)
    boarding = cutoff_ms(Purpose.BOARDING, now_ms)
    record("punches", retention.purge_punches(attendance))
    record("attendance_templates",
           retention.purge_inactive_templates(Purpose.ATTENDANCE, attendance))
    record("boarding_records", retention.purge_boarding(boarding))
    record("boarding_templates", retention.purge_inactive_templates(Purpose.BOARDING, boarding))
    record("identity_verifications", retention.purge_verifications(
        cutoff_ms(Purpose.IDENTITY_VERIFICATION, now_ms)))
    record("store_entry_templates", retention.purge_inactive_templates(
        Purpose.STORE_ENTRY, cutoff_ms(Purpose.STORE_ENTRY, now_ms)))
    for scope, counts in sorted(per_scope.items(), key=lambda kv: (kv[0].tenant_id,
                                                                     kv[0].livemode)):
        audit(scope, counts)
    return report
