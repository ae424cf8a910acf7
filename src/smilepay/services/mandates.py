"""Standing authorisations: a customer lets the merchant debit the wallet outside the face flow.

Granted, listed and revoked from the wallet page (a wallet session); every grant and revoke is
written to the face audit. A merchant's confirm of a payment by customer id (secret key) needs
an active one, else ``mandate_required`` (403): checked by the money core itself
(``confirm_payment(require_mandate=True)``) from the payer's standing, which is read with the
payment's wallet lock in one statement (``adapters.sql.statements.payer_standing_stmt``).
"""

from __future__ import annotations

from typing import Any

from smilepay.domain.mandates import Mandate, mandate_required
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


def require_mandate(flow: FlowStore, scope: Scope, customer_id: str) -> str:
    """The customer's active mandate id, or ``MandateRequired``."""
    found = flow.active_mandate(scope, customer_id)
    if found is None:
        raise mandate_required(customer_id)
    return found
