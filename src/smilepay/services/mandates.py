"""Standing authorisations: a customer lets the merchant debit the wallet outside the face flow.

Granted, listed and revoked from the wallet page (a wallet session); every grant and revoke is
written to the face audit. A merchant's confirm of a payment by customer id (secret key) needs
an active one (``require_mandate``), else ``mandate_required`` (403).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smilepay.domain.mandates import Mandate, MandateRequired
from smilepay.domain.tenants import Scope
from smilepay.errors import NotFound
from smilepay.ports.flow import FlowStore
from smilepay.services.face_context import FaceContext


def mandate_view(mandate: Mandate) -> dict[str, Any]:
    return {"id": mandate.mandate_id, "object": "mandate", "customer": mandate.customer_id,
            "status": "active" if mandate.active else "revoked",
            "created_ms": mandate.created_at_ms, "revoked_ms": mandate.revoked_at_ms}


def grant_mandate(fc: FaceContext, scope: Scope, customer_id: str, now_ms: int) -> Mandate:
    mandate = fc.flow.grant_mandate(scope, customer_id, now_ms)
    fc.audit(scope, "mandate", "granted", (), customer_id, now_ms,
             {"mandate": mandate.mandate_id})
    return mandate


def revoke_mandate(fc: FaceContext, scope: Scope, customer_id: str, mandate_id: str,
                   now_ms: int) -> Mandate:
    mandate = fc.flow.revoke_mandate(scope, customer_id, mandate_id, now_ms)
    if mandate is None:
        raise NotFound(f"no mandate {mandate_id} on this wallet", param="mandate")
    fc.audit(scope, "mandate", "revoked", (), customer_id, now_ms, {"mandate": mandate_id})
    return mandate


def mandate_required(customer_id: str) -> MandateRequired:
    return MandateRequired(
        f"expected a standing authorisation (mandate) from customer {customer_id} to debit "
        "the wallet outside the face flow, got none: the customer grants one on the "
        "wallet page, or pays at a terminal with the face flow", param="customer")


def require_mandate(flow: FlowStore, scope: Scope, customer_id: str) -> str:
    """The customer's active mandate id, or ``MandateRequired``."""
    found = flow.active_mandate(scope, customer_id)
    if found is None:
        raise mandate_required(customer_id)
    return found


def mandate_gate(flow: FlowStore, scope: Scope, customer_id: str | None
                 ) -> Callable[[str | None], None]:
    """A check to run inside the payment's transaction, read before it: the money core runs
    writes in group-commit batches, and a read there would wait in every batch. The result is
    read once, in the request's own thread; only a payer it did not know (named by the intent,
    not the request) is read inside. A replayed Idempotency-Key never runs the check."""
    known = flow.active_mandate(scope, customer_id) if customer_id is not None else None

    def check(payer: str | None) -> None:
        if payer is None:
            return
        if payer == customer_id:
            if known is None:
                raise mandate_required(payer)
            return
        require_mandate(flow, scope, payer)

    return check
