"""Attendance reports over in-memory records: shifts of the period, their marks, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from smilepay.domain.attendance import (
    Punch,
    PunchKind,
    PunchMethod,
    Shift,
    ShiftPolicy,
    StaffMember,
)
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.services.attendance_reports import report, to_csv

DAY = datetime(2026, 12, 7, tzinfo=UTC)
SCOPE = Scope("ten_1", False)


class Records:
    def __init__(self) -> None:
        self.staff = [StaffMember("stf_a", "site_1", "Ada", "staff", "h", None),
                      StaffMember("stf_b", "site_1", "=HYPERLINK(1)", "staff", "h", None)]
        self.shifts = [Shift(f"shf_{d}_{s.staff_id}", s.staff_id, "site_1",
                             DAY + timedelta(days=d, hours=9), DAY + timedelta(days=d, hours=17))
                       for d in range(7) for s in self.staff]
        self.punches = [
            Punch("p1", "stf_a", "site_1", DAY + timedelta(hours=9, minutes=12), PunchKind.IN),
            Punch("p2", "stf_a", "site_1", DAY + timedelta(hours=18), PunchKind.OUT),
            Punch("p3", "stf_b", "site_1", DAY + timedelta(hours=9), PunchKind.IN,
                  PunchMethod.PIN),
        ]

    def staff_of_site(self, scope: Scope, site_id: str) -> list[StaffMember]:
        return self.staff

    def shifts_between(self, scope: Scope, site_id: str, start_ms: int,
                       end_ms: int) -> list[Shift]:
        return [s for s in self.shifts if s.end.timestamp() * 1000 > start_ms
                and s.start.timestamp() * 1000 < end_ms]

    def punches_between(self, scope: Scope, site_id: str, start_ms: int,
                        end_ms: int) -> list[Punch]:
        return [p for p in self.punches if start_ms <= p.at.timestamp() * 1000 < end_ms]


def test_a_day_and_a_week() -> None:
    records = Records()
    day = report(records, SCOPE, "site_1", DAY, "day", ShiftPolicy())  # type: ignore[arg-type]
    assert len(day) == 2
    ada = next(r for r in day if r.staff_id == "stf_a").outcome
    assert ada.marks == ("late", "overtime") and ada.late_minutes == 12
    assert ada.overtime_minutes == 60
    other = next(r for r in day if r.staff_id == "stf_b").outcome
    assert other.marks == ("absent", "pending_approval")
    week = report(records, SCOPE, "site_1", DAY, "week", ShiftPolicy())  # type: ignore[arg-type]
    assert len(week) == 14
    with pytest.raises(InvalidInput):
        report(records, SCOPE, "site_1", DAY, "month", ShiftPolicy())  # type: ignore[arg-type]


def test_csv_has_a_header_and_no_formula_cells() -> None:
    rows = report(Records(), SCOPE, "site_1", DAY, "day", ShiftPolicy())  # type: ignore[arg-type]
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert parsed[0][:3] == ["staff", "name", "shift"] and len(parsed) == 3
    names = {r[1] for r in parsed[1:]}
    assert names == {"Ada", "'=HYPERLINK(1)"}
