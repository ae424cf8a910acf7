"""Daily and weekly attendance reports of a site, as rows and as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from smilepay.domain.attendance import ShiftOutcome, ShiftPolicy, evaluate_shift
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gates import AttendanceRecords

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}
CSV_COLUMNS = ("staff", "name", "shift", "start", "end", "clock_in", "clock_out",
               "late_min", "early_leave_min", "overtime_min", "worked_min", "marks")


@dataclass(frozen=True)
class ReportRow:
    staff_id: str
    name: str
    start: datetime
    end: datetime
    outcome: ShiftOutcome


def report(records: AttendanceRecords, scope: Scope, site_id: str, start: datetime,
           period: str, policy: ShiftPolicy) -> list[ReportRow]:
    if period not in PERIODS:
        raise InvalidInput(f"expected a period in {sorted(PERIODS)}, got {period!r}",
                           param="period")
    end = start + PERIODS[period]
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    names = {m.staff_id: m.name for m in records.staff_of_site(scope, site_id)}
    # punches up to a shift's overtime and grace either side of the period count
    margin_ms = int(timedelta(hours=6).total_seconds() * 1000)
    punches = records.punches_between(scope, site_id, start_ms - margin_ms, end_ms + margin_ms)
    rows = []
    for shift in records.shifts_between(scope, site_id, start_ms, end_ms):
        window = [p for p in punches if p.staff_id == shift.staff_id
                  and shift.start - timedelta(hours=4) <= p.at <= shift.end + timedelta(hours=6)]
        rows.append(ReportRow(shift.staff_id, names.get(shift.staff_id, ""), shift.start,
                              shift.end, evaluate_shift(shift, window, policy)))
    return rows


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.isoformat(timespec="minutes")


def to_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        o = r.outcome
        # a leading =, +, - or @ would be a formula in a spreadsheet: names are prefixed
        name = "'" + r.name if r.name[:1] in {"=", "+", "-", "@"} else r.name
        writer.writerow([r.staff_id, name, o.shift_id, _iso(r.start), _iso(r.end),
                         _iso(o.clock_in), _iso(o.clock_out), o.late_minutes,
                         o.early_leave_minutes, o.overtime_minutes, o.worked_minutes,
                         " ".join(o.marks)])
    return out.getvalue()


def row_json(r: ReportRow) -> dict[str, object]:
    o = r.outcome
    return {"staff": r.staff_id, "name": r.name, "shift": o.shift_id, "start": _iso(r.start),
            "end": _iso(r.end), "clock_in": _iso(o.clock_in), "clock_out": _iso(o.clock_out),
            "late_minutes": o.late_minutes, "early_leave_minutes": o.early_leave_minutes,
            "overtime_minutes": o.overtime_minutes, "worked_minutes": o.worked_minutes,
            "marks": list(o.marks)}
