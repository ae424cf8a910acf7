"""What every parsed identity document offers the KYC flow: type, country, number, birth date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DocumentType(StrEnum):
    CN_RESIDENT_ID = "cn_resident_id"
    PASSPORT = "passport"


@dataclass(frozen=True)
class IdentityDocument:
    """The fields of a validated document that the KYC outcome may use (the number is hashed
    before it is stored; the birth date is reduced to its year)."""

    document_type: DocumentType
    country: str  # ISO 3166-1 alpha-3 as the MRZ writes it ("CHN" for a resident ID)
    number: str
    birth_date: date
    expiry_date: date | None = None
    sex: str | None = None  # "M" | "F" | None (unspecified)

    @property
    def birth_year(self) -> int:
        return self.birth_date.year
