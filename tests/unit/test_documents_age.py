"""Age from a birth date; the guardian rule; the keyed hash of a document number."""

from __future__ import annotations

from datetime import date

import pytest

from smilepay.domain.documents import (
    DocumentType,
    Guardian,
    GuardianRequired,
    age_on,
    check_guardian,
    document_number_digest,
    needs_guardian,
)
from smilepay.errors import InvalidInput

TODAY = date(2026, 12, 6)
KEY = b"k" * 32


@pytest.mark.parametrize("born, age", [
    (date(2012, 12, 6), 14), (date(2012, 12, 7), 13), (date(1949, 12, 31), 76),
    (date(2026, 12, 6), 0),
])
def test_age(born: date, age: int) -> None:
    assert age_on(born, TODAY) == age


def test_a_leap_day_birthday() -> None:
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_under_14_needs_a_guardian() -> None:
    assert needs_guardian(date(2012, 12, 7), TODAY)
    assert not needs_guardian(date(2012, 12, 6), TODAY)
    assert check_guardian(date(2000, 1, 1), None, TODAY) is None


def test_a_verified_adult_guardian_is_recorded() -> None:
    guardian = Guardian("cus_parent", verified=True, birth_date=date(1980, 5, 5))
    assert check_guardian(date(2015, 1, 1), guardian, TODAY, "cus_child") == "cus_parent"


@pytest.mark.parametrize("guardian", [
    None,
    Guardian("cus_parent", verified=False, birth_date=date(1980, 5, 5)),
    Guardian("cus_parent", verified=True, birth_date=None),
    Guardian("cus_sibling", verified=True, birth_date=date(2010, 1, 1)),  # 16: not an adult
    Guardian("cus_child", verified=True, birth_date=date(1980, 1, 1)),  # themself
])
def test_guardians_that_do_not_qualify(guardian: Guardian | None) -> None:
    with pytest.raises(GuardianRequired):
        check_guardian(date(2015, 1, 1), guardian, TODAY, "cus_child")


def test_document_digest_is_keyed_and_stable() -> None:
    a = document_number_digest(KEY, DocumentType.CN_RESIDENT_ID, "chn", "11010519491231002x")
    b = document_number_digest(KEY, DocumentType.CN_RESIDENT_ID, "CHN", "11010519491231002X")
    c = document_number_digest(b"j" * 32, DocumentType.CN_RESIDENT_ID, "CHN",
                               "11010519491231002X")
    assert a == b != c and "11010519491231002X" not in a and len(a) == 64
    with pytest.raises(InvalidInput):
        document_number_digest(b"short", DocumentType.PASSPORT, "UTO", "L898902C3")
