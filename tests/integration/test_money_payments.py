"""Payment rules on the real store, both engines: limits, lockout, hold expiry, fees, payouts,
refund ceilings, phone lookup by full number and by last four digits."""

from __future__ import annotations

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import AccountKind
from smilepay.domain.money_errors import InsufficientFunds, RefundExceedsCaptured
from smilepay.domain.payments import CaptureMethod, PaymentIntent, PaymentStatus
from smilepay.domain.risk import CustomerLimits, LockoutPolicy
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict
from smilepay.ports.money import MoneyTx
from smilepay.services import customers, payments, refunds
from smilepay.services.context import FixedClock, MoneyContext, MoneyPolicy
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ctx(clock: FixedClock) -> MoneyContext:
    policy = MoneyPolicy(lockout=LockoutPolicy(max_failures=3, window_s=600, lock_s=1800),
                         hold_ttl_s=3600)
    return MoneyContext(clock=clock, phones=PhoneCipher(DEV_ONLY_MASTER_KEY), policy=policy)


def shop(store: SqlMoneyStore, ctx: MoneyContext, fee_bps: int = 0,
         limits: CustomerLimits | None = None) -> tuple[Scope, str]:
    scope = seed_merchant(store, ctx, "Rules", fee_bps=fee_bps).scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=10_000,
                                 limits=limits or CustomerLimits(3_000, 5_000))
    return scope, customer


def buy(store: SqlMoneyStore, ctx: MoneyContext, scope: Scope, customer: str, amount: int,
        method: CaptureMethod = CaptureMethod.AUTOMATIC, currency: str = "EUR") -> PaymentIntent:
    def work(tx: MoneyTx) -> PaymentIntent:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=amount, currency=currency,
                                         customer_id=customer, capture_method=method)
        return payments.confirm_payment(tx, ctx, scope, intent.id)

    return store.run(work)


def balances(store: SqlMoneyStore, scope: Scope) -> dict[AccountKind, int]:
    return {a.kind: a.balance_minor
            for a in store.run(lambda tx: tx.all_accounts(scope), write=False)}


def test_per_payment_and_daily_limits_decline(store: SqlMoneyStore, ctx: MoneyContext,
                                              clock: FixedClock) -> None:
    scope, customer = shop(store, ctx)
    big = buy(store, ctx, scope, customer, 3_001)
    assert (big.status, big.last_error_code) == (PaymentStatus.FAILED, "amount_limit_exceeded")
    assert buy(store, ctx, scope, customer, 3_000).status is PaymentStatus.SUCCEEDED
    assert buy(store, ctx, scope, customer, 2_000).status is PaymentStatus.SUCCEEDED
    over = buy(store, ctx, scope, customer, 1)
    assert over.last_error_code == "daily_limit_exceeded"
    # limits are in the payment's currency: the day's euros do not count against dollars
    store.run(lambda tx: customers.top_up(tx, ctx, scope, customer, 100, "USD"))
    assert buy(store, ctx, scope, customer, 100, currency="USD").status is PaymentStatus.SUCCEEDED
    clock.advance_s(24 * 3600 + 1)
    assert buy(store, ctx, scope, customer, 1).status is PaymentStatus.SUCCEEDED


def test_failed_verifications_lock_the_customer_out_for_a_while(
    store: SqlMoneyStore, ctx: MoneyContext, clock: FixedClock
) -> None:
    scope, customer = shop(store, ctx)
    for _ in range(3):
        store.run(lambda tx: payments.record_verification_attempt(
            tx, ctx, scope, customer, succeeded=False, reason="phone_mismatch"))
        clock.advance_s(60)
    locked = buy(store, ctx, scope, customer, 100)
    assert locked.last_error_code == "customer_locked_out"
    # a failed intent can be confirmed again once the lock has passed
    clock.advance_s(1800)
    retried = store.run(lambda tx: payments.confirm_payment(tx, ctx, scope, locked.id))
    assert retried.status is PaymentStatus.SUCCEEDED


def test_an_expired_hold_is_released_and_its_payment_canceled(
    store: SqlMoneyStore, ctx: MoneyContext, clock: FixedClock
) -> None:
    scope, customer = shop(store, ctx)
    held = buy(store, ctx, scope, customer, 900, CaptureMethod.MANUAL)
    assert held.status is PaymentStatus.REQUIRES_CAPTURE
    clock.advance_s(3601)
    assert store.run(lambda tx: payments.expire_payment_holds(tx, ctx)) >= 1
    after = store.run(lambda tx: payments.get_payment(tx, scope, held.id))
    assert after.status is PaymentStatus.CANCELED
    wallet = store.run(lambda tx: customers.wallet(tx, ctx, scope, customer, "EUR"))
    assert (wallet.balance_minor, wallet.pending_out_minor) == (10_000, 0)


def test_fees_refunds_and_payouts_move_the_right_accounts(
    store: SqlMoneyStore, ctx: MoneyContext
) -> None:
    scope, customer = shop(store, ctx, fee_bps=290)
    paid = buy(store, ctx, scope, customer, 2_000)
    assert balances(store, scope)[AccountKind.PLATFORM_FEES] == 58
    refund, intent = store.run(lambda tx: refunds.create_refund(tx, ctx, scope, paid.id, 500))
    assert intent.amount_refunded_minor == 500 and refund.amount_minor == 500
    with pytest.raises(RefundExceedsCaptured):
        store.run(lambda tx: refunds.create_refund(tx, ctx, scope, paid.id, 1_501))
    store.run(lambda tx: refunds.create_payout(tx, ctx, scope, 1_442, "EUR"))
    with pytest.raises(InsufficientFunds):  # nothing left to pay out or refund from
        store.run(lambda tx: refunds.create_refund(tx, ctx, scope, paid.id, 1))
    assert balances(store, scope) == {
        AccountKind.FUNDING: -10_000, AccountKind.CUSTOMER_WALLET: 8_500,
        AccountKind.MERCHANT_BALANCE: 0, AccountKind.PLATFORM_FEES: 58,
        AccountKind.PAYOUTS: 1_442,
    }


def test_phones_are_found_by_number_and_last_four_only_in_their_tenant(
    store: SqlMoneyStore, ctx: MoneyContext
) -> None:
    scope, _ = shop(store, ctx)
    other = seed_merchant(store, ctx, "Other").scope

    def work(tx: MoneyTx) -> None:
        ann = customers.create_customer(tx, ctx, scope, "+44 7700 900123", name="Ann")
        bob = customers.create_customer(tx, ctx, scope, "+44 7700 800123", name="Bob")
        cy = customers.create_customer(tx, ctx, scope, "+44 7700 800999", name="Cy")
        customers.create_customer(tx, ctx, other, "+44 7700 900123", name="Ann elsewhere")
        with pytest.raises(Conflict):
            customers.create_customer(tx, ctx, scope, "+447700900123")
        found = customers.find_customer_by_phone(tx, ctx, scope, "+447700900123")
        assert found is not None and found.id == ann.id
        both = customers.find_customers_by_last4(tx, ctx, scope, "0123",
                                                 [ann.id, bob.id, cy.id])
        assert {c.id for c in both} == {ann.id, bob.id}
        assert customers.find_customers_by_last4(tx, ctx, scope, "0123", [cy.id]) == []
        assert b"7700" not in ann.phone_ciphertext
        assert ctx.phones.decrypt(ann.phone_ciphertext, scope.tenant_id) == "+447700900123"

    store.run(work)
