"""Standing authorisations (mandates) and who may authorise a payment.

A customer's wallet is debited only with an authorisation the customer gave and the system
recorded: the face flow at a terminal (liveness, 1:N match, phone factor); the merchant's
server (secret key) under a mandate the customer granted on the wallet page; a store trip's
hold, placed when the customer entered with the wallet's code or face under store-entry
consent; or a fare, authorised by the passenger's ticket and boarding consent (the payment
names both). A mandate is recorded, listed and revocable; a revoked one never authorises
again. A terminal key never confirms a payment by customer id.
"""

from __future__ import annotations

from dataclasses import dataclass

from smilepay.domain.money_errors import PermissionDenied
from smilepay.errors import SmilePayError


class MandateRequired(PermissionDenied):
    """A merchant debit of a customer's wallet outside the face flow, without a mandate."""

    code = "mandate_required"


def mandate_required(customer_id: str) -> MandateRequired:
    return MandateRequired(
        f"expected a standing authorisation (mandate) from customer {customer_id} to debit "
        "the wallet outside the face flow, got none: the customer grants one on the "
        "wallet page, or pays at a terminal with the face flow", param="customer")


class FaceFlowRequired(PermissionDenied):
    """A terminal key tried to confirm a payment by customer id instead of the face flow."""

    code = "face_flow_required"


class RateLimited(SmilePayError):
    """Too many requests of one kind for one key (a phone number, a terminal, a wallet)."""

    code = "rate_limited"


@dataclass(frozen=True)
class Mandate:
    mandate_id: str
    customer_id: str
    created_at_ms: int
    revoked_at_ms: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at_ms is None
