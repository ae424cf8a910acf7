"""Chinese resident identity numbers (GB 11643-1999), 18 characters.

``RRRRRR YYYYMMDD SSS C``: a 6-digit administrative region whose first two digits name a
province-level division, the birth date (a real date, not in the future), a 3-digit sequence
(odd for men, even for women; never ``000``), and an ISO 7064 MOD 11-2 check character
(``0``-``9`` or ``X`` for 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from smilepay.domain.documents.errors import DocumentInvalid
from smilepay.domain.documents.types import DocumentType, IdentityDocument

LENGTH = 18
EARLIEST_BIRTH = date(1900, 1, 1)
# Province-level codes of GB/T 2260 (plus 71 Taiwan, 81 Hong Kong, 82 Macao, 83 for the
# residence permits of Taiwan residents).
PROVINCE_CODES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise DocumentInvalid(f"expected 17 digits before the check character, "
                              f"got {len(first17)} characters")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class CnResidentId:
    number: str  # normalised: upper-case X
    region: str
    birth_date: date
    sequence: int
    sex: str  # "M" | "F"

    def as_document(self) -> IdentityDocument:
        return IdentityDocument(document_type=DocumentType.CN_RESIDENT_ID, country="CHN",
                                number=self.number, birth_date=self.birth_date, sex=self.sex)


def _birth_date(digits: str, today: date) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise DocumentInvalid("expected a real birth date in positions 7-14, got "
                              f"{digits[0:4]}-{digits[4:6]}-{digits[6:8]}",
                              field="birth_date") from None
    if born > today:
        raise DocumentInvalid(f"expected a birth date not after {today.isoformat()}, got "
                              f"{born.isoformat()}", field="birth_date")
    if born < EARLIEST_BIRTH:
        raise DocumentInvalid(f"expected a birth date from {EARLIEST_BIRTH.isoformat()}, got "
                              f"{born.isoformat()}", field="birth_date")
    return born


def parse_cn_resident_id(raw: str, today: date) -> CnResidentId:
    """Validate and split a resident identity number (spaces are ignored, ``x`` = ``X``)."""
    number = "".join(raw.split()).upper()
    if len(number) != LENGTH:
        raise DocumentInvalid(f"expected {LENGTH} characters, got {len(number)}", field="length")
    body, check = number[:17], number[17]
    if not body.isascii() or not body.isdigit():
        raise DocumentInvalid("expected digits in positions 1-17, got another character",
                              field="format")
    if check not in "0123456789X":
        raise DocumentInvalid("expected a check character 0-9 or X, got another character",
                              field="format")
    if int(body[:2]) not in PROVINCE_CODES:
        raise DocumentInvalid(f"expected a province code in the region, got {body[:2]}",
                              field="region")
    born = _birth_date(body[6:14], today)
    sequence = int(body[14:17])
    if sequence == 0:
        raise DocumentInvalid("expected a sequence 001-999, got 000", field="sequence")
    expected = check_character(body)
    if check != expected:
        raise DocumentInvalid("expected the MOD 11-2 check character to match, got a mismatch",
                              field="check")
    return CnResidentId(number=number, region=body[:6], birth_date=born, sequence=sequence,
                        sex="M" if sequence % 2 else "F")
