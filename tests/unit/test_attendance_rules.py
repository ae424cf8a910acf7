"""Shift rules: grace, late and early marks, overtime, rest, double punches, manual approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smilepay.domain.attendance import (
    ManualPunchNotApproved,
    Punch,
    PunchKind,
    PunchMethod,
    Shift,
    ShiftPolicy,
    approve_manual,
    check_rest,
    dedupe,
    evaluate_shift,
    is_late_sync,
    next_kind,
    rest_violations,
)
from smilepay.errors import InvalidInput

POLICY = ShiftPolicy()
DAY = datetime(2026, 12, 7, tzinfo=UTC)
SHIFT = Shift("sh_1", "st_a", "site_1", DAY.replace(hour=9), DAY.replace(hour=17))


def punch(n: int, hour: int, minute: int, kind: PunchKind, second: int = 0,
          method: PunchMethod = PunchMethod.FACE, staff: str = "st_a") -> Punch:
    return Punch(f"pu_{n}", staff, "site_1", DAY.replace(hour=hour, minute=minute, second=second),
                 kind, method)


def test_on_time_within_grace() -> None:
    out = evaluate_shift(SHIFT, [punch(1, 9, 4, PunchKind.IN), punch(2, 16, 56, PunchKind.OUT)],
                         POLICY)
    assert out.marks == () and out.late_minutes == 0 and out.early_leave_minutes == 0
    assert out.worked_minutes == 7 * 60 + 52


def test_late_and_early_leave() -> None:
    out = evaluate_shift(SHIFT, [punch(1, 9, 6, PunchKind.IN), punch(2, 16, 30, PunchKind.OUT)],
                         POLICY)
    assert out.marks == ("late", "early_leave")
    assert out.late_minutes == 6 and out.early_leave_minutes == 30


def test_overtime_only_past_its_threshold_and_early_arrival_unpaid() -> None:
    short = evaluate_shift(SHIFT, [punch(1, 8, 50, PunchKind.IN),
                                   punch(2, 17, 14, PunchKind.OUT)], POLICY)
    assert "overtime" not in short.marks and short.early_arrival_minutes == 10
    assert short.worked_minutes == 8 * 60 + 14
    long = evaluate_shift(SHIFT, [punch(1, 9, 0, PunchKind.IN), punch(2, 18, 30, PunchKind.OUT)],
                          POLICY)
    assert long.marks == ("overtime",) and long.overtime_minutes == 90


def test_missing_punches_and_absence() -> None:
    assert evaluate_shift(SHIFT, [], POLICY).marks == ("absent",)
    assert evaluate_shift(SHIFT, [punch(1, 9, 0, PunchKind.IN)], POLICY).marks == ("missing_out",)
    assert evaluate_shift(SHIFT, [punch(1, 17, 0, PunchKind.OUT)], POLICY).marks == (
        "missing_in",)


def test_other_staff_punches_do_not_count() -> None:
    out = evaluate_shift(SHIFT, [punch(1, 9, 0, PunchKind.IN, staff="st_b")], POLICY)
    assert out.marks == ("absent",)


def test_a_double_punch_within_a_minute_is_one() -> None:
    punches = [punch(1, 9, 0, PunchKind.IN), punch(2, 9, 0, PunchKind.OUT, second=59),
               punch(3, 9, 1, PunchKind.OUT, second=0)]
    kept = dedupe(punches, POLICY)
    assert [p.punch_id for p in kept] == ["pu_1", "pu_3"]
    assert next_kind(None) is PunchKind.IN and next_kind(kept[0]) is PunchKind.OUT
    assert next_kind(kept[1]) is PunchKind.IN


def test_a_manual_punch_counts_only_once_approved() -> None:
    manual = punch(1, 9, 0, PunchKind.IN, method=PunchMethod.PIN)
    assert manual.manual and not manual.counts
    pending = evaluate_shift(SHIFT, [manual, punch(2, 17, 0, PunchKind.OUT)], POLICY)
    assert pending.marks == ("missing_in", "pending_approval")
    approved = approve_manual(manual, "st_manager")
    assert approved.counts
    assert evaluate_shift(SHIFT, [approved, punch(2, 17, 0, PunchKind.OUT)], POLICY).marks == ()
    with pytest.raises(ManualPunchNotApproved):
        approve_manual(manual, "st_a")
    with pytest.raises(InvalidInput):
        approve_manual(punch(3, 9, 0, PunchKind.IN), "st_manager")


def test_minimum_rest_between_shifts() -> None:
    night = Shift("sh_2", "st_a", "site_1", DAY.replace(hour=22), DAY.replace(hour=23))
    assert rest_violations([SHIFT, night], POLICY) == [("sh_1", "sh_2", 300)]
    with pytest.raises(InvalidInput):
        check_rest([SHIFT], night, POLICY)
    next_day = Shift("sh_3", "st_a", "site_1", DAY.replace(hour=17) + timedelta(hours=11),
                     DAY.replace(hour=17) + timedelta(hours=19))
    check_rest([SHIFT], next_day, POLICY)
    other = Shift("sh_4", "st_b", "site_1", DAY.replace(hour=22), DAY.replace(hour=23))
    check_rest([SHIFT], other, POLICY)


def test_a_shift_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidInput):
        Shift("sh_x", "st_a", "site_1", DAY.replace(hour=9), DAY.replace(hour=9))


def test_offline_sync_window() -> None:
    device = DAY.replace(hour=9)
    assert not is_late_sync(device, device + timedelta(hours=2), POLICY)
    assert is_late_sync(device, device + timedelta(hours=25), POLICY)
    assert is_late_sync(device + timedelta(hours=1), device, POLICY)  # a clock in the future
