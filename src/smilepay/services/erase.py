"""Erase: revoking consent deletes a customer's templates from the store and the gallery in one
transaction (no worker matches them once it commits) and returns a deletion receipt;
``purge_expired`` does the same when retention has lapsed. Those are the payment templates:
``erase_purpose_templates`` erases one other purpose's gate templates (store entry's copy,
boarding's), and leaves the payment templates and the other purposes'.
"""

from __future__ import annotations

from datetime import timedelta

from smilepay.domain.consent import CONSENT_TEXTS, DeletionReceipt, make_deletion_receipt
from smilepay.domain.identity import AuditEntry
from smilepay.domain.ids import new_id
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gates import GateTemplateStore
from smilepay.services.face_context import FaceContext, now_utc


def erase_face(fc: FaceContext, scope: Scope, customer_id: str, now_ms: int,
               reason: str = "revoked") -> DeletionReceipt:
    """Delete every template of the customer, revoke consent, write receipt and audit."""
    at = now_utc(now_ms)

    def make_receipt(count: int) -> DeletionReceipt:
        return make_deletion_receipt(receipt_id=new_id("fdel", now_ms), tenant_id=scope.tenant_id,
                                     customer_id=customer_id, template_count=count,
                                     reason=reason, now=at)

    def audit(receipt: DeletionReceipt) -> tuple[str, AuditEntry]:
        return new_id("aud", now_ms), AuditEntry(
            "erase", "deleted", (reason,), customer_id, at,
            {"templates": receipt.template_count, "receipt": receipt.receipt_id,
             "digest": receipt.digest})

    def unsearchable(tx: object, template_ids: list[str]) -> None:
        fc.gallery.remove(scope, template_ids, tx=tx)  # in the erasure's transaction

    receipt, _ = fc.identity.erase_customer(scope, customer_id, make_receipt, audit,
                                            also=unsearchable)
    return receipt


def purge_expired(fc: FaceContext, now_ms: int) -> list[DeletionReceipt]:
    """Erase the faces of customers whose retention period has lapsed."""
    shortest = min(t.retention_days for t in CONSENT_TEXTS.values())
    before_ms = now_ms - int(timedelta(days=shortest).total_seconds() * 1000)
    receipts = []
    for scope, consent in fc.identity.expired_consents(before_ms):
        if consent.is_expired(now_utc(now_ms)):
            receipts.append(erase_face(fc, scope, consent.customer_id, now_ms,
                                       reason="retention_expired"))
    return receipts


def erase_purpose_templates(templates: GateTemplateStore, scope: Scope, customer_id: str,
                            purpose: Purpose) -> list[str]:
    """Delete the customer's gate templates of ``purpose`` only; the ids deleted (for the
    matchers to forget). Payment templates are ``erase_face``'s."""
    if purpose is Purpose.PAYMENT:
        raise InvalidInput("expected a purpose other than payment (erase_face erases payment "
                           "templates), got payment", param="purpose")
    return templates.delete_of(scope, purpose, customer_id)
