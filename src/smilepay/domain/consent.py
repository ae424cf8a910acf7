"""Consent for face payment: the versioned text, the record of a grant, revocation, retention.

Pure rules, no I/O. "No consent, no template" lives in ``domain.templates``; this module says
what a valid consent is and when it lapses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from smilepay.errors import InvalidInput, SmilePayError


class ConsentRequired(SmilePayError):
    """A face template was asked for without an active consent."""

    code = "consent_required"


class ConsentVersionUnknown(SmilePayError):
    code = "consent_version_unknown"


@dataclass(frozen=True)
class ConsentText:
    """One published version of the face-payment consent, shown verbatim to the customer."""

    version: str
    purpose: str
    what_is_kept: str
    retention_days: int
    how_to_delete: str
    # what the retention days count from (the texts published before this field say "your
    # last face payment": their wording, and so their digests, are unchanged)
    retention_since: str = "your last face payment"

    @property
    def body(self) -> str:
        return (
            f"Purpose: {self.purpose}\n"
            f"What we keep: {self.what_is_kept}\n"
            f"How long: until you delete it, or {self.retention_days} days after "
            f"{self.retention_since}, whichever comes first.\n"
            f"How to delete: {self.how_to_delete}"
        )

    @property
    def digest(self) -> str:
        """sha256 of the exact text, recorded with every grant."""
        return hashlib.sha256(f"{self.version}\n{self.body}".encode()).hexdigest()


CONSENT_TEXTS: dict[str, ConsentText] = {
    "2026-11-face-pay-v1": ConsentText(
        version="2026-11-face-pay-v1",
        purpose=(
            "Pay at SmilePay terminals of this merchant by looking at the camera and confirming "
            "with your phone number. Your face is used for nothing else."
        ),
        what_is_kept=(
            "Encrypted face templates (numbers computed from your face, not photos), the model "
            "that made them, and a log of each face decision with its scores. No photos are "
            "kept; camera frames are dropped right after they are processed."
        ),
        retention_days=365,
        how_to_delete=(
            "Press 'Erase my face' on your wallet page at any time. Templates are removed from "
            "storage and from the search index at once and you get a deletion receipt."
        ),
    ),
    # v2: v1 said "Your face is used for nothing else"; store entry (a purpose of its own) can
    # now keep a copy of this template, on its own consent. A grant on v1 stays valid for
    # payment (nothing about payment changed); new grants are on v2.
    "2026-12-face-pay-v2": ConsentText(
        version="2026-12-face-pay-v2",
        purpose=(
            "Pay at SmilePay terminals of this merchant by looking at the camera and confirming "
            "with your phone number. Your face template is used for nothing else unless you "
            "turn on another use yourself (such as entering stores by face): that use asks "
            "for its own consent and keeps its own copy."
        ),
        what_is_kept=(
            "Encrypted face templates (numbers computed from your face, not photos), the model "
            "that made them, and a log of each face decision with its scores. No photos are "
            "kept; camera frames are dropped right after they are processed."
        ),
        retention_days=365,
        how_to_delete=(
            "Press 'Erase my face' on your wallet page at any time. Your payment templates are "
            "removed from storage and from the search index at once and you get a deletion "
            "receipt. Copies kept for another use you turned on stay until you turn that use "
            "off (for store entry: on your wallet's store page)."
        ),
    ),
}
CURRENT_CONSENT_VERSION = "2026-12-face-pay-v2"


def consent_text(version: str = CURRENT_CONSENT_VERSION) -> ConsentText:
    try:
        return CONSENT_TEXTS[version]
    except KeyError:
        raise ConsentVersionUnknown(
            f"expected a consent version in {sorted(CONSENT_TEXTS)}, got {version!r}",
            version=version,
        ) from None


@dataclass(frozen=True)
class ConsentRecord:
    """A customer's grant of face-payment consent (and its revocation, if any)."""

    consent_id: str
    tenant_id: str
    customer_id: str
    version: str
    text_digest: str
    granted_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def retention_deadline(self) -> datetime:
        """When templates lapse if unused: retention days after the last use (or the grant)."""
        since = self.last_used_at or self.granted_at
        return since + timedelta(days=consent_text(self.version).retention_days)

    def is_expired(self, now: datetime) -> bool:
        return self.active and now >= self.retention_deadline()


def grant_consent(
    *, consent_id: str, tenant_id: str, customer_id: str, version: str, accepted_digest: str,
    now: datetime,
) -> ConsentRecord:
    """Record a grant; the customer must have been shown exactly the text of ``version``."""
    text = consent_text(version)
    if accepted_digest != text.digest:
        raise ConsentRequired(
            f"expected the digest of consent text {version!r}, got {accepted_digest[:12]!r}",
            version=version,
        )
    return ConsentRecord(
        consent_id=consent_id, tenant_id=tenant_id, customer_id=customer_id, version=version,
        text_digest=text.digest, granted_at=now,
    )


def revoke_consent(record: ConsentRecord, now: datetime) -> ConsentRecord:
    if not record.active:
        return record
    return replace(record, revoked_at=now)


def mark_used(record: ConsentRecord, now: datetime) -> ConsentRecord:
    return replace(record, last_used_at=now)


@dataclass(frozen=True)
class DeletionReceipt:
    """Proof that a customer's face data was deleted: what, when, and why."""

    receipt_id: str
    tenant_id: str
    customer_id: str
    template_count: int
    reason: str  # "revoked" | "retention_expired" | "operator"
    deleted_at: datetime

    @property
    def digest(self) -> str:
        """A short fingerprint the customer can quote."""
        raw = (
            f"{self.receipt_id}|{self.tenant_id}|{self.customer_id}|{self.template_count}|"
            f"{self.reason}|{self.deleted_at.isoformat()}"
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


DELETION_REASONS = frozenset({"revoked", "retention_expired", "operator"})


def make_deletion_receipt(
    *, receipt_id: str, tenant_id: str, customer_id: str, template_count: int, reason: str,
    now: datetime,
) -> DeletionReceipt:
    if reason not in DELETION_REASONS:
        raise InvalidInput(f"expected a reason in {sorted(DELETION_REASONS)}, got {reason!r}")
    if template_count < 0:
        raise InvalidInput(f"expected a template count >= 0, got {template_count}")
    return DeletionReceipt(
        receipt_id=receipt_id, tenant_id=tenant_id, customer_id=customer_id,
        template_count=template_count, reason=reason, deleted_at=now,
    )
