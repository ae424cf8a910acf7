"""Passport MRZ (ICAO 9303 TD3): the specimen, each check digit corrupted, dates, centuries."""

from __future__ import annotations

from datetime import date

import pytest

from smilepay.domain.documents import DocumentExpired, DocumentInvalid, DocumentType, parse_td3
from smilepay.domain.documents.mrz import birth_date_of, check_digit, expiry_date_of

TODAY = date(2026, 12, 6)
# ICAO Doc 9303 part 4 specimen (Utopia), expired in 2012.
LINE1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def line2(number: str, nationality: str, birth: str, sex: str, expiry: str,
          personal: str) -> str:
    """A TD3 second line with correct check digits."""
    num = number.ljust(9, "<")
    pers = personal.ljust(14, "<")
    pers_check = check_digit(pers) if personal else "<"
    body = (num + check_digit(num) + nationality + birth + check_digit(birth) + sex + expiry
            + check_digit(expiry) + pers + pers_check)
    composite = body[0:10] + body[13:20] + body[21:43]
    return body + check_digit(composite)


def test_check_digit_731() -> None:
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"
    assert line2("L898902C3", "UTO", "740812", "F", "120415", "ZE184226B") == LINE2


def test_the_specimen_parses_when_expiry_is_allowed() -> None:
    mrz = parse_td3(LINE1, LINE2, TODAY, allow_expired=True)
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.number == "L898902C3" and mrz.issuing_state == "UTO"
    assert mrz.birth_date == date(1974, 8, 12) and mrz.expiry_date == date(2012, 4, 15)
    assert mrz.sex == "F" and mrz.personal_number == "ZE184226B"
    assert mrz.as_document().document_type is DocumentType.PASSPORT


def test_an_expired_passport_is_refused() -> None:
    with pytest.raises(DocumentExpired):
        parse_td3(LINE1, LINE2, TODAY)


def test_a_current_passport() -> None:
    second = line2("E12345678", "CHN", "900101", "M", "300101", "")
    mrz = parse_td3("P<CHNZHANG<<WEI" + "<" * 29, second, TODAY)
    assert mrz.number == "E12345678" and mrz.expiry_date == date(2030, 1, 1)
    assert mrz.personal_number == "" and second[42] == "<"


@pytest.mark.parametrize("position, name", [
    (9, "number"), (19, "birth_date"), (27, "expiry_date"), (42, "personal_number"),
    (43, "composite"),
])
def test_each_check_digit_corrupted(position: int, name: str) -> None:
    wrong = str((int(LINE2[position]) + 1) % 10)
    corrupted = LINE2[:position] + wrong + LINE2[position + 1:]
    with pytest.raises(DocumentInvalid) as caught:
        parse_td3(LINE1, corrupted, TODAY, allow_expired=True)
    assert caught.value.details["field"] == name


@pytest.mark.parametrize("position, name", [
    (2, "number"), (15, "birth_date"), (24, "expiry_date"), (30, "personal_number"),
])
def test_each_field_corrupted(position: int, name: str) -> None:
    original = LINE2[position]
    wrong = "7" if original != "7" else "8"
    corrupted = LINE2[:position] + wrong + LINE2[position + 1:]
    with pytest.raises(DocumentInvalid) as caught:
        parse_td3(LINE1, corrupted, TODAY, allow_expired=True)
    assert caught.value.details["field"] == name


def test_a_field_changed_with_its_own_check_fixed_is_caught_by_the_composite() -> None:
    forged_number = "L898902C4"
    forged = forged_number + check_digit(forged_number) + LINE2[10:]
    with pytest.raises(DocumentInvalid) as caught:
        parse_td3(LINE1, forged, TODAY, allow_expired=True)
    assert caught.value.details["field"] == "composite"


@pytest.mark.parametrize("line1, line2_, field", [
    (LINE1[:-1], LINE2, "length"),
    (LINE1, LINE2 + "<", "length"),
    (LINE1.replace("ERIKSSON", "ERIKSSO!"), LINE2, "format"),
    ("V" + LINE1[1:], LINE2, "document_code"),
])
def test_malformed_lines(line1: str, line2_: str, field: str) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        parse_td3(line1, line2_, TODAY, allow_expired=True)
    assert caught.value.details["field"] == field


def test_an_impossible_birth_date_with_a_correct_check_digit() -> None:
    second = line2("E12345678", "CHN", "900230", "M", "300101", "")
    with pytest.raises(DocumentInvalid) as caught:
        parse_td3("P<CHNZHANG<<WEI" + "<" * 29, second, TODAY)
    assert caught.value.details["field"] == "birth_date"


def test_two_digit_years() -> None:
    assert birth_date_of("261206", TODAY) == date(2026, 12, 6)
    assert birth_date_of("261207", TODAY) == date(1926, 12, 7)  # not in the future
    assert birth_date_of("490101", TODAY) == date(1949, 1, 1)
    assert birth_date_of("050101", TODAY) == date(2005, 1, 1)
    assert expiry_date_of("360101", TODAY) == date(2036, 1, 1)
    assert expiry_date_of("990101", TODAY) == date(1999, 1, 1)
