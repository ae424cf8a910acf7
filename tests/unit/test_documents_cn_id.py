"""Chinese resident identity numbers (GB 11643-1999): valid numbers and each kind of corruption."""

from __future__ import annotations

from datetime import date

import pytest

from smilepay.domain.documents import DocumentInvalid, DocumentType, parse_cn_resident_id
from smilepay.domain.documents.cn_resident_id import check_character

TODAY = date(2026, 12, 6)
VALID = "11010519491231002X"


def make(first17: str) -> str:
    return first17 + check_character(first17)


def test_the_standard_example_is_valid() -> None:
    parsed = parse_cn_resident_id(VALID, TODAY)
    assert parsed.region == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sequence == 2 and parsed.sex == "F"
    document = parsed.as_document()
    assert document.document_type is DocumentType.CN_RESIDENT_ID
    assert document.country == "CHN" and document.birth_year == 1949


def test_lower_case_x_and_spaces_are_normalised() -> None:
    assert parse_cn_resident_id("110105 19491231 002x", TODAY).number == VALID


@pytest.mark.parametrize("first17, check", [
    ("11010519491231002", "X"),  # weighted sum mod 11 = 2
    ("44030419900101001", check_character("44030419900101001")),
])
def test_check_character(first17: str, check: str) -> None:
    assert check_character(first17) == check
    assert parse_cn_resident_id(first17 + check, TODAY).number == first17 + check


def test_a_male_sequence_is_odd() -> None:
    assert parse_cn_resident_id(make("44030419900101001"), TODAY).sex == "M"


def _field(raw: str) -> str:
    with pytest.raises(DocumentInvalid) as caught:
        parse_cn_resident_id(raw, TODAY)
    return str(caught.value.details["field"])


@pytest.mark.parametrize("position", range(17))
def test_every_single_digit_change_is_caught(position: int) -> None:
    digit = VALID[position]
    changed = VALID[:position] + str((int(digit) + 1) % 10) + VALID[position + 1:]
    with pytest.raises(DocumentInvalid):
        parse_cn_resident_id(changed, TODAY)


def test_a_wrong_check_character() -> None:
    assert _field(VALID[:17] + "0") == "check"


def test_adjacent_transposition_is_caught() -> None:
    swapped = VALID[:15] + VALID[16] + VALID[15] + VALID[17:]  # "002" -> "020"
    assert _field(swapped) == "check"


@pytest.mark.parametrize("raw", [VALID[:17], VALID + "1", "", "1101051949123100"])
def test_wrong_length(raw: str) -> None:
    assert _field(raw) == "length"


@pytest.mark.parametrize(
    "raw", ["1101051949123100AX", "11010519491231002Y", "\uff11\uff11010519491231002X"])
def test_bad_characters(raw: str) -> None:
    assert _field(raw) in {"format", "length"}


def test_unknown_province() -> None:
    assert _field(make("99010519491231002")) == "region"


@pytest.mark.parametrize("birth", ["19490230", "19491301", "20230229", "19490000"])
def test_impossible_birth_dates(birth: str) -> None:
    assert _field(make("110105" + birth + "002")) == "birth_date"


def test_a_leap_day_birth_is_valid() -> None:
    assert parse_cn_resident_id(make("11010520000229002"), TODAY).birth_date == date(2000, 2, 29)


def test_birth_in_the_future_or_too_early() -> None:
    assert _field(make("11010520261207002")) == "birth_date"
    assert parse_cn_resident_id(make("11010520261206002"), TODAY).birth_date == TODAY
    assert _field(make("11010518991231002")) == "birth_date"


def test_sequence_zero() -> None:
    assert _field(make("11010519491231000")) == "sequence"


def test_messages_never_carry_the_number() -> None:
    with pytest.raises(DocumentInvalid) as caught:
        parse_cn_resident_id(VALID[:17] + "0", TODAY)
    assert VALID[:14] not in str(caught.value)
