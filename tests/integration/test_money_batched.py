"""Different money operations batched into one group-commit transaction, on both engines:
each sees the writes of the ones before it (buffered or pending), a failing one is dropped
alone, and the ledger still sums to zero."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from sqlalchemy.exc import IntegrityError

from money_support import queued_in_one_batch
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.events import Event
from smilepay.domain.ids import new_id
from smilepay.domain.ledger import AccountKind, sum_by_currency
from smilepay.domain.money_errors import InsufficientFunds
from smilepay.domain.risk import CustomerLimits
from smilepay.ports.money import MoneyTx
from smilepay.services import payments
from smilepay.services.context import MoneyContext, SystemClock
from smilepay.services.customers import top_up
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.refunds import create_payout
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration


def test_a_batch_of_top_up_payments_and_payouts_keeps_the_ledger_exact(
    store: SqlMoneyStore,
) -> None:
    ctx = MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    scope = seed_merchant(store, ctx, "Batch shop").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=0,
                                 limits=CustomerLimits(10**6, 10**9))

    def pay(amount: int) -> Callable[[MoneyTx], str]:
        def work(tx: MoneyTx) -> str:
            intent = payments.create_payment(tx, ctx, scope, amount_minor=amount,
                                             currency="EUR", customer_id=customer)
            return payments.confirm_payment(tx, ctx, scope, intent.id).status.value
        return work

    works: list[Callable[[MoneyTx], object]] = [
        lambda tx: top_up(tx, ctx, scope, customer, 1000, "EUR").amount_minor,
        pay(700),  # sees the top-up's buffered wallet balance
        pay(700),  # sees the first payment's: declined
        lambda tx: create_payout(tx, ctx, scope, 700, "EUR").amount_minor,  # pending credit
        lambda tx: create_payout(tx, ctx, scope, 1, "EUR").amount_minor,  # nothing left
    ]
    futures = queued_in_one_batch(store, [partial(store.run, work) for work in works])
    assert [f.result() for f in futures[:4]] == [1000, "succeeded", "failed", 700]
    assert isinstance(futures[4].exception(), InsufficientFunds)

    accounts = store.run(lambda tx: tx.all_accounts(scope), write=False)
    balances = {a.kind: a.balance_minor for a in accounts}
    assert balances == {AccountKind.FUNDING: -1000, AccountKind.CUSTOMER_WALLET: 300,
                        AccountKind.MERCHANT_BALANCE: 0, AccountKind.PAYOUTS: 700}
    assert sum_by_currency(accounts) == {"EUR": 0}


def test_a_buffered_write_refused_at_the_end_fails_only_its_unit(store: SqlMoneyStore) -> None:
    """The batch's buffered rows go out at its end (on PostgreSQL as one pipeline): an insert
    the database refuses there (an event id already taken) is an IntegrityError for its unit
    alone, which keeps nothing; the payments around it commit."""
    ctx = MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    scope = seed_merchant(store, ctx, "Refused shop").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=1000,
                                 limits=CustomerLimits(10**6, 10**9))
    taken = Event(id=new_id("evt", 1), tenant_id=scope.tenant_id, livemode=scope.livemode,
                  type="test.taken", data_json="{}", created_at_ms=1)
    store.run(lambda tx: tx.insert(taken))

    def pay(tx: MoneyTx) -> str:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=100, currency="EUR",
                                         customer_id=customer)
        return payments.confirm_payment(tx, ctx, scope, intent.id).status.value

    def clash(tx: MoneyTx) -> str:
        top_up(tx, ctx, scope, customer, 500, "EUR")  # its effects must go too
        tx.insert(taken)
        return "inserted"

    futures = queued_in_one_batch(store, [partial(store.run, w) for w in (pay, clash, pay)])
    assert [futures[0].result(), futures[2].result()] == ["succeeded", "succeeded"]
    assert isinstance(futures[1].exception(), IntegrityError)
    accounts = store.run(lambda tx: tx.all_accounts(scope), write=False)
    wallet = next(a for a in accounts if a.kind is AccountKind.CUSTOMER_WALLET)
    assert wallet.balance_minor == 1000 - 200  # no top-up of 500 kept
    assert sum_by_currency(accounts) == {"EUR": 0}
