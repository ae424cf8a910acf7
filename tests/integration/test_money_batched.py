"""Different money operations batched into one group-commit transaction, on both engines:
each sees the writes of the ones before it (buffered or pending), a failing one is dropped
alone, and the ledger still sums to zero."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from money_support import queued_in_one_batch
from smilepay.adapters.sql.store import SqlMoneyStore
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
