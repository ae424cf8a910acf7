"""Identity documents: number and MRZ validation, age and the guardian rule (pure, no I/O).

A document number is validated here before any face work: a malformed, corrupted or
impossible number never reaches the face engine.
"""

from __future__ import annotations

from smilepay.domain.documents.age import (
    ADULT_AGE,
    GUARDIAN_AGE,
    Guardian,
    GuardianRequired,
    age_on,
    check_guardian,
    needs_guardian,
)
from smilepay.domain.documents.cn_resident_id import CnResidentId, parse_cn_resident_id
from smilepay.domain.documents.errors import DocumentExpired, DocumentInvalid
from smilepay.domain.documents.keyed import document_number_digest
from smilepay.domain.documents.mrz import PassportMrz, parse_td3
from smilepay.domain.documents.types import DocumentType, IdentityDocument

__all__ = [
    "ADULT_AGE",
    "GUARDIAN_AGE",
    "CnResidentId",
    "DocumentExpired",
    "DocumentInvalid",
    "DocumentType",
    "Guardian",
    "GuardianRequired",
    "IdentityDocument",
    "PassportMrz",
    "age_on",
    "check_guardian",
    "document_number_digest",
    "needs_guardian",
    "parse_cn_resident_id",
    "parse_td3",
]
