"""An identity verification as it is kept: the outcome, never the image or the number."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smilepay.domain.documents.types import DocumentType


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REFUSED = "refused"


@dataclass(frozen=True)
class IdentityVerification:
    verification_id: str
    tenant_id: str
    livemode: bool
    customer_id: str
    status: VerificationStatus
    document_type: DocumentType
    country: str
    number_digest: str  # HMAC-SHA256 under the tenant's key (``document_number_digest``)
    birth_year: int
    challenge_id: str
    created_at_ms: int
    guardian_customer_id: str | None = None
    reason: str | None = None
    model_id: str | None = None
    score: float | None = None
    threshold: float | None = None
    threshold_source: str | None = None
    decided_at_ms: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.verification_id, "object": "identity_verification",
            "customer": self.customer_id, "status": self.status.value, "reason": self.reason,
            "document_type": self.document_type.value, "country": self.country,
            "birth_year": self.birth_year, "guardian": self.guardian_customer_id,
            "model_id": self.model_id,
            "score": None if self.score is None else round(self.score, 4),
            "threshold": None if self.threshold is None else round(self.threshold, 4),
            "threshold_source": self.threshold_source,
            "created_ms": self.created_at_ms, "decided_ms": self.decided_at_ms,
        }
