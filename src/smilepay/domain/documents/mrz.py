"""Passport machine-readable zone, ICAO Doc 9303 part 4 (TD3: two lines of 44 characters).

Line 1: ``P`` + type + issuing state (3) + ``SURNAME<<GIVEN<NAMES`` (39).
Line 2: number (9) + check, nationality (3), birth ``YYMMDD`` + check, sex, expiry ``YYMMDD``
+ check, personal number (14) + check, and a composite check over the number, birth, expiry
and personal-number fields with their checks. Check digits weight the values 7, 3, 1 (digits
are themselves, ``A``-``Z`` are 10-35, the filler ``<`` is 0) and take the sum mod 10.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

from smilepay.domain.documents.errors import DocumentExpired, DocumentInvalid
from smilepay.domain.documents.types import DocumentType, IdentityDocument

LINE_LENGTH = 44
_ALLOWED = frozenset(string.ascii_uppercase + string.digits + "<")
_WEIGHTS = (7, 3, 1)


def char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise DocumentInvalid(f"expected A-Z, 0-9 or '<' in the MRZ, got {ch!r}", field="format")


def check_digit(field: str) -> str:
    """The 7-3-1 check digit of ``field``."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


@dataclass(frozen=True)
class PassportMrz:
    document_code: str  # "P" plus the optional type character
    issuing_state: str
    surname: str
    given_names: str
    number: str  # without fillers
    nationality: str
    birth_date: date
    sex: str | None  # "M", "F" or None ("<" or "X")
    expiry_date: date
    personal_number: str

    def as_document(self) -> IdentityDocument:
        return IdentityDocument(document_type=DocumentType.PASSPORT, country=self.issuing_state,
                                number=self.number, birth_date=self.birth_date,
                                expiry_date=self.expiry_date, sex=self.sex)


def _expect_check(field: str, check: str, name: str, *, optional: bool = False) -> None:
    if optional and check == "<" and set(field) <= {"<"}:
        return  # an empty personal number may carry a filler for its check
    if check != check_digit(field):
        raise DocumentInvalid(f"expected the {name} check digit to match, got a mismatch",
                              field=name)


def _yymmdd(text: str, name: str) -> tuple[int, int, int]:
    if not text.isdigit():
        raise DocumentInvalid(f"expected {name} as YYMMDD digits, got {text!r}", field=name)
    return int(text[0:2]), int(text[2:4]), int(text[4:6])


def _real(year: int, month: int, day: int, name: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DocumentInvalid(f"expected a real {name}, got {year:04d}-{month:02d}-{day:02d}",
                              field=name) from None


def birth_date_of(text: str, today: date) -> date:
    """A two-digit birth year is the latest century that does not put the birth in the future."""
    yy, month, day = _yymmdd(text, "birth_date")
    century = today.year // 100 * 100
    year = century + yy if century + yy <= today.year else century - 100 + yy
    born = _real(year, month, day, "birth_date")
    if born > today:  # same year, a later day: the century before
        born = _real(year - 100, month, day, "birth_date")
    return born


def expiry_date_of(text: str, today: date) -> date:
    """A two-digit expiry year within 50 years before or after ``today``."""
    yy, month, day = _yymmdd(text, "expiry_date")
    century = today.year // 100 * 100
    year = century + yy
    if year > today.year + 50:
        year -= 100
    elif year < today.year - 50:
        year += 100
    return _real(year, month, day, "expiry_date")


def _names(field: str) -> tuple[str, str]:
    surname, _, given = field.partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def parse_td3(line1: str, line2: str, today: date, *, allow_expired: bool = False) -> PassportMrz:
    """Validate a passport MRZ (two lines of 44) and return its fields."""
    lines = [line1.strip().upper(), line2.strip().upper()]
    for k, line in enumerate(lines, start=1):
        if len(line) != LINE_LENGTH:
            raise DocumentInvalid(f"expected MRZ line {k} of {LINE_LENGTH} characters, "
                                  f"got {len(line)}", field="length")
        if not set(line) <= _ALLOWED:
            raise DocumentInvalid(f"expected only A-Z, 0-9 and '<' on MRZ line {k}, got "
                                  "another character", field="format")
    top, bottom = lines
    if top[0] != "P":
        raise DocumentInvalid(f"expected a passport (document code P), got {top[0]!r}",
                              field="document_code")
    issuing = top[2:5]
    nationality = bottom[10:13]
    for name, code in (("issuing_state", issuing), ("nationality", nationality)):
        if not code.replace("<", "").isalpha():
            raise DocumentInvalid(f"expected a 3-letter {name}, got {code!r}", field=name)
    _expect_check(bottom[0:9], bottom[9], "number")
    _expect_check(bottom[13:19], bottom[19], "birth_date")
    _expect_check(bottom[21:27], bottom[27], "expiry_date")
    _expect_check(bottom[28:42], bottom[42], "personal_number", optional=True)
    composite = bottom[0:10] + bottom[13:20] + bottom[21:43]
    _expect_check(composite, bottom[43], "composite")
    number = bottom[0:9].replace("<", "")
    if not number:
        raise DocumentInvalid("expected a document number, got only fillers", field="number")
    sex_char = bottom[20]
    if sex_char not in "MF<X":
        raise DocumentInvalid(f"expected sex M, F, X or '<', got {sex_char!r}", field="sex")
    born = birth_date_of(bottom[13:19], today)
    expiry = expiry_date_of(bottom[21:27], today)
    if expiry < today and not allow_expired:
        raise DocumentExpired(f"expected an expiry date from {today.isoformat()}, got "
                              f"{expiry.isoformat()}", field="expiry_date")
    surname, given = _names(top[5:])
    return PassportMrz(document_code=top[0:2].replace("<", ""), issuing_state=issuing.replace(
        "<", ""), surname=surname, given_names=given, number=number,
        nationality=nationality.replace("<", ""), birth_date=born,
        sex=sex_char if sex_char in "MF" else None, expiry_date=expiry,
        personal_number=bottom[28:42].replace("<", ""))
