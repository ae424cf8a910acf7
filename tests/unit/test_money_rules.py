"""Money, payment state machine, refunds, limits and lockout as pure rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smilepay.domain.customers import mask_phone, normalize_phone
from smilepay.domain.ids import new_id
from smilepay.domain.money import check_amount_minor, fee_minor, parse_currency
from smilepay.domain.money_errors import (
    CustomerLockedOut,
    InvalidAmount,
    InvalidPaymentState,
    PaymentLimitExceeded,
    RefundExceedsCaptured,
)
from smilepay.domain.payments import (
    CaptureMethod,
    PaymentIntent,
    PaymentStatus,
    check_refund_minor,
    move_payment,
)
from smilepay.domain.risk import CustomerLimits, LockoutPolicy, check_limits, check_not_locked
from smilepay.domain.tenants import KeyKind, generate_api_key, parse_api_key
from smilepay.errors import InvalidInput

S = PaymentStatus


def intent(status: PaymentStatus = S.REQUIRES_CONFIRMATION, captured: int = 0,
           refunded: int = 0) -> PaymentIntent:
    return PaymentIntent(
        id="pi_1", tenant_id="ten_1", livemode=False, amount_minor=1000, currency="EUR",
        status=status, capture_method=CaptureMethod.AUTOMATIC, customer_id="cus_1",
        terminal_id=None, description="", hold_id=None, amount_captured_minor=captured,
        amount_refunded_minor=refunded, last_error_code=None, last_error_message=None,
        created_at_ms=0, updated_at_ms=0,
    )


def test_amounts_and_currencies_are_validated_at_the_edge() -> None:
    assert parse_currency("eur") == "EUR"
    with pytest.raises(InvalidInput, match="expected a currency"):
        parse_currency("EURO")
    with pytest.raises(InvalidAmount):
        check_amount_minor(0)
    with pytest.raises(InvalidAmount):
        check_amount_minor(True)
    assert fee_minor(2000, 290) == 58 and fee_minor(1, 5000) == 1 and fee_minor(1, 4999) == 0


@pytest.mark.parametrize(("start", "to", "ok"), [
    (S.REQUIRES_CONFIRMATION, S.PROCESSING, True),
    (S.PROCESSING, S.SUCCEEDED, True),
    (S.PROCESSING, S.REQUIRES_CAPTURE, True),
    (S.REQUIRES_CAPTURE, S.SUCCEEDED, True),
    (S.REQUIRES_CAPTURE, S.CANCELED, True),
    (S.FAILED, S.PROCESSING, True),
    (S.SUCCEEDED, S.CANCELED, False),
    (S.SUCCEEDED, S.PROCESSING, False),
    (S.CANCELED, S.PROCESSING, False),
    (S.REQUIRES_CONFIRMATION, S.SUCCEEDED, False),
])
def test_the_state_machine_allows_only_its_moves(
    start: PaymentStatus, to: PaymentStatus, ok: bool
) -> None:
    if ok:
        assert move_payment(intent(start), to, 5).status is to
    else:
        with pytest.raises(InvalidPaymentState):
            move_payment(intent(start), to, 5)


def test_refunds_never_exceed_what_was_captured() -> None:
    paid = intent(S.SUCCEEDED, captured=800, refunded=300)
    assert check_refund_minor(paid, None) == 500
    assert check_refund_minor(paid, 500) == 500
    with pytest.raises(RefundExceedsCaptured):
        check_refund_minor(paid, 501)
    with pytest.raises(RefundExceedsCaptured):
        check_refund_minor(replace(paid, amount_refunded_minor=800), None)
    with pytest.raises(InvalidPaymentState):
        check_refund_minor(intent(S.REQUIRES_CAPTURE), 1)


def test_limits_per_payment_and_per_day() -> None:
    limits = CustomerLimits(per_payment_minor=100, per_day_minor=250)
    check_limits(100, 150, limits)
    with pytest.raises(PaymentLimitExceeded) as per_payment:
        check_limits(101, 0, limits)
    assert per_payment.value.code == "amount_limit_exceeded"
    with pytest.raises(PaymentLimitExceeded) as per_day:
        check_limits(100, 151, limits)
    assert per_day.value.code == "daily_limit_exceeded"


def test_lockout_needs_enough_failures_inside_one_window() -> None:
    policy = LockoutPolicy(max_failures=3, window_s=60, lock_s=600)
    spread = [0, 61_000, 122_000]
    check_not_locked(spread, policy, 130_000)
    close = [0, 20_000, 40_000]
    with pytest.raises(CustomerLockedOut):
        check_not_locked(close, policy, 100_000)
    check_not_locked(close, policy, 40_000 + 600_000)


def test_phone_numbers_and_keys_have_one_form() -> None:
    assert normalize_phone("+49 (151) 234-5678") == "+491512345678"
    with pytest.raises(InvalidInput):
        normalize_phone("0151 2345678")
    assert mask_phone("+491512345678") == "+********5678"
    key = generate_api_key(KeyKind.TERMINAL, livemode=True)
    assert key.startswith("tk_live_") and parse_api_key(key) == (KeyKind.TERMINAL, True)
    later = new_id("pi", 2_000)
    assert new_id("pi", 1_000) < later and later.startswith("pi_")
