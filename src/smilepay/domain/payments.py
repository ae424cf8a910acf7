"""Payment intents and their state machine; refund arithmetic.

    requires_confirmation --confirm--> processing --> succeeded | failed
                                                  \\-> requires_capture (manual capture: a hold)
    requires_capture --capture--> succeeded          requires_capture --cancel--> canceled
    requires_confirmation --cancel--> canceled       failed --confirm--> processing (a retry)

An unpaid intent (``requires_confirmation`` or ``failed``) is canceled by the system once it is
older than the policy's ``unpaid_ttl_s``, and when a newer intent is sent to its terminal: a
terminal has at most one payment waiting for a customer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from smilepay.domain.money import check_amount_minor
from smilepay.domain.money_errors import InvalidPaymentState, RefundExceedsCaptured


class PaymentStatus(StrEnum):
    REQUIRES_CONFIRMATION = "requires_confirmation"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


S = PaymentStatus
ALLOWED_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.REQUIRES_CONFIRMATION: frozenset({S.PROCESSING, S.CANCELED}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED, S.REQUIRES_CAPTURE}),
    S.REQUIRES_CAPTURE: frozenset({S.SUCCEEDED, S.CANCELED}),
    S.FAILED: frozenset({S.PROCESSING, S.CANCELED}),
    S.SUCCEEDED: frozenset(),
    S.CANCELED: frozenset(),
}


UNPAID = frozenset({S.REQUIRES_CONFIRMATION, S.FAILED})  # nothing moved yet; may still be paid


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    tenant_id: str
    livemode: bool
    amount_minor: int
    currency: str
    status: PaymentStatus
    capture_method: CaptureMethod
    customer_id: str | None
    terminal_id: str | None
    description: str
    hold_id: str | None
    amount_captured_minor: int
    amount_refunded_minor: int
    last_error_code: str | None
    last_error_message: str | None
    created_at_ms: int
    updated_at_ms: int
    # why it was canceled: "requested" (the merchant), "expired" (unpaid past the policy's
    # time), "superseded" (a newer payment was sent to its terminal), "hold_expired"
    cancellation_reason: str | None = None


@dataclass(frozen=True)
class Refund:
    id: str
    tenant_id: str
    livemode: bool
    payment_intent_id: str
    amount_minor: int
    currency: str
    reason: str
    transfer_id: str
    created_at_ms: int


def move_payment(intent: PaymentIntent, to: PaymentStatus, now_ms: int) -> PaymentIntent:
    """The intent in its new status, or ``InvalidPaymentState`` for a move the machine forbids."""
    if to not in ALLOWED_TRANSITIONS[intent.status]:
        raise InvalidPaymentState(
            f"expected a payment intent that can become {to.value}, got {intent.status.value}",
            payment_intent=intent.id,
            status=intent.status.value,
        )
    return replace(intent, status=to, updated_at_ms=now_ms)


def is_unpaid_past(intent: PaymentIntent, now_ms: int, unpaid_ttl_s: int) -> bool:
    """Whether ``intent`` is still unpaid ``unpaid_ttl_s`` after it was created (it expires)."""
    return intent.status in UNPAID and now_ms - intent.created_at_ms >= unpaid_ttl_s * 1000


def refundable_minor(intent: PaymentIntent) -> int:
    return intent.amount_captured_minor - intent.amount_refunded_minor


def check_refund_minor(intent: PaymentIntent, amount_minor: int | None) -> int:
    """The refund amount (the whole refundable rest when ``None``), never above what is left."""
    if intent.status is not PaymentStatus.SUCCEEDED:
        raise InvalidPaymentState(
            f"expected a succeeded payment intent to refund, got {intent.status.value}",
            payment_intent=intent.id,
        )
    rest = refundable_minor(intent)
    amount = rest if amount_minor is None else check_amount_minor(amount_minor)
    if amount <= 0 or amount > rest:
        raise RefundExceedsCaptured(
            f"expected a refund of at most {rest}, got {amount}",
            param="amount_minor",
            refundable_minor=rest,
        )
    return amount
