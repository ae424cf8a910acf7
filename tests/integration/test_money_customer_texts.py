"""What customers read about their money, on both engines: a payment in a currency their wallet
does not hold is declined with what to do (no account id), and receipts show real amounts."""

from __future__ import annotations

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.events import Notification
from smilepay.domain.payments import PaymentIntent, PaymentStatus
from smilepay.ports.money import MoneyTx
from smilepay.services import payments, refunds
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx() -> MoneyContext:
    return MoneyContext(clock=FixedClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))


def test_a_payment_in_a_currency_the_wallet_lacks_says_what_to_do(
        store: SqlMoneyStore, ctx: MoneyContext) -> None:
    scope = seed_merchant(store, ctx, "Yen shop").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=10_000, currency="EUR",
                                 phone_base=4915180000000)

    def pay(tx: MoneyTx) -> PaymentIntent:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=500, currency="JPY",
                                         customer_id=customer)
        return payments.confirm_payment(tx, ctx, scope, intent.id)

    declined = store.run(pay)
    assert declined.status is PaymentStatus.FAILED
    assert declined.last_error_code == "insufficient_funds"
    assert declined.last_error_message == (
        "The wallet has no JPY balance: top it up in JPY or pay another way.")


def test_receipts_and_refund_notes_show_amounts_in_the_currencys_unit(
        store: SqlMoneyStore, ctx: MoneyContext) -> None:
    scope = seed_merchant(store, ctx, "Receipts").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=100_000, currency="JPY",
                                 phone_base=4915181000000)

    def pay(tx: MoneyTx) -> PaymentIntent:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=500, currency="JPY",
                                         customer_id=customer)
        return payments.confirm_payment(tx, ctx, scope, intent.id)

    paid = store.run(pay)
    store.run(lambda tx: refunds.create_refund(tx, ctx, scope, paid.id, 200, reason="test"))
    notes = store.run(lambda tx: tx.list_page(Notification, scope, limit=10,
                                              equals={"customer_id": customer}), write=False)
    bodies = sorted(n.body for n in notes.items)
    assert bodies == ["Paid 500 JPY.", "Refunded 200 JPY for your payment of 500 JPY."]
