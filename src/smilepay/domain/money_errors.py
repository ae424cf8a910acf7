"""Errors of the money core: ledger, payments, refunds, idempotency, API keys.

Each carries the offending values in ``details`` and a stable ``code``; none knows HTTP.

- PaymentDeclined (a payment could not move money; recorded on the payment as its last error)
    InsufficientFunds, PaymentLimitExceeded (amount_limit_exceeded, daily_limit_exceeded),
    CustomerLockedOut
- CurrencyMismatch, InvalidAmount                        (bad input)
- InvalidPaymentState, HoldNotPending, TransferAlreadyReversed, IdempotencyKeyReused (conflicts)
- RefundExceedsCaptured                                  (bad input against current state)
- AuthenticationFailed, PermissionDenied, TestModeOnly   (who may do what)
- WebhookVerificationFailed                              (receiver side)
"""

from __future__ import annotations

from smilepay.errors import Conflict, InvalidInput, SmilePayError


class PaymentDeclined(SmilePayError):
    """Money could not move for a reason the payer can act on."""

    code = "payment_declined"


class InsufficientFunds(PaymentDeclined):
    code = "insufficient_funds"


class PaymentLimitExceeded(PaymentDeclined):
    code = "amount_limit_exceeded"

    def __init__(self, message: str, *, daily: bool = False, **details: object) -> None:
        super().__init__(message, **details)
        if daily:
            self.code = "daily_limit_exceeded"


class CustomerLockedOut(PaymentDeclined):
    code = "customer_locked_out"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class RefundExceedsCaptured(InvalidInput):
    code = "refund_exceeds_captured"


class InvalidPaymentState(Conflict):
    code = "payment_intent_unexpected_state"


class HoldNotPending(Conflict):
    code = "hold_not_pending"


class TransferAlreadyReversed(Conflict):
    code = "transfer_already_reversed"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class AuthenticationFailed(SmilePayError):
    code = "authentication_failed"


class PermissionDenied(SmilePayError):
    code = "permission_denied"


class TestModeOnly(InvalidInput):
    code = "test_mode_only"


class WebhookVerificationFailed(SmilePayError):
    code = "webhook_verification_failed"
