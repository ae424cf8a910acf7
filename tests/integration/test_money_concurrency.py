"""Concurrent payments on both engines: 8 threads pay from one wallet at once, and two send the
same Idempotency-Key: money moves exactly once per key and the wallet is never overdrawn.

Each test runs twice: with a store per thread (its own engine and connection pool, as separate
processes would have), and with one store shared by all threads, where the payments meet in
group commit (several in one transaction)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import AccountKind, sum_by_currency
from smilepay.domain.payments import PaymentIntent, PaymentStatus
from smilepay.domain.risk import CustomerLimits
from smilepay.domain.tenants import Scope
from smilepay.ports.money import MoneyTx, StoredResponse
from smilepay.services import payments
from smilepay.services.context import MoneyContext, SystemClock
from smilepay.services.idempotency import fingerprint_request, run_idempotent
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant
from smilepay.services.views import payment_view

pytestmark = pytest.mark.integration
T = TypeVar("T")
THREADS = 8
PRICE = 700


@pytest.fixture
def ctx() -> MoneyContext:
    return MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))


@pytest.fixture(params=["store_per_thread", "one_shared_store"])
def sharing(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def in_parallel(url: str, jobs: list[Callable[[SqlMoneyStore], T]], sharing: str) -> list[T]:
    if sharing == "one_shared_store":
        shared = SqlMoneyStore.from_url(url)
        stores = [shared] * len(jobs)
    else:
        stores = [SqlMoneyStore.from_url(url) for _ in jobs]
    barrier = threading.Barrier(len(jobs))

    def go(i: int) -> T:
        barrier.wait()
        return jobs[i](stores[i])

    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(go, range(len(jobs))))
    finally:
        for s in set(stores):
            s.dispose()


def pay_once(ctx: MoneyContext, scope: Scope, customer_id: str, key: str
             ) -> Callable[[SqlMoneyStore], tuple[StoredResponse, bool]]:
    body = json.dumps({"amount_minor": PRICE, "customer": customer_id}).encode()

    def operation(tx: MoneyTx) -> StoredResponse:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=PRICE, currency="EUR",
                                         customer_id=customer_id)
        done = payments.confirm_payment(tx, ctx, scope, intent.id)
        return StoredResponse(200, json.dumps(payment_view(done)).encode())

    def job(store: SqlMoneyStore) -> tuple[StoredResponse, bool]:
        return run_idempotent(store, scope, key, fingerprint_request("POST", "/pay", body),
                              ctx.clock.now_ms(), 3600, operation)

    return job


def world(url: str, ctx: MoneyContext, topup_minor: int, per_day_minor: int = 10**12
          ) -> tuple[SqlMoneyStore, Scope, str]:
    store = SqlMoneyStore.from_url(url)
    scope = seed_merchant(store, ctx, "Busy shop").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=topup_minor,
                                 limits=CustomerLimits(10**9, per_day_minor))
    return store, scope, customer


def test_eight_payers_on_one_wallet_never_overdraw(
    money_url: str, ctx: MoneyContext, sharing: str
) -> None:
    store, scope, customer = world(money_url, ctx, topup_minor=5 * PRICE)
    results = in_parallel(money_url, [pay_once(ctx, scope, customer, f"key-{i}")
                                for i in range(THREADS)], sharing)
    statuses = sorted(json.loads(r.body)["status"] for r, _ in results)
    assert statuses == ["failed"] * 3 + ["succeeded"] * 5

    accounts = store.run(lambda tx: tx.all_accounts(scope), write=False)
    wallet = next(a for a in accounts if a.kind is AccountKind.CUSTOMER_WALLET)
    merchant = next(a for a in accounts if a.kind is AccountKind.MERCHANT_BALANCE)
    assert (wallet.balance_minor, merchant.balance_minor) == (0, 5 * PRICE)
    assert sum_by_currency(accounts) == {"EUR": 0}
    store.dispose()


def test_two_requests_with_one_key_move_money_once(
    money_url: str, ctx: MoneyContext, sharing: str
) -> None:
    store, scope, customer = world(money_url, ctx, topup_minor=10 * PRICE)
    results = in_parallel(money_url, [pay_once(ctx, scope, customer, "same-key") for _ in range(2)],
                          sharing)
    (first, replay_a), (second, replay_b) = results
    assert first.body == second.body and json.loads(first.body)["status"] == "succeeded"
    assert sorted([replay_a, replay_b]) == [False, True]

    intents = store.run(lambda tx: tx.list_page(PaymentIntent, scope, limit=10), write=False)
    assert [p.status for p in intents.items] == [PaymentStatus.SUCCEEDED]
    wallet = next(a for a in store.run(lambda tx: tx.all_accounts(scope), write=False)
                  if a.kind is AccountKind.CUSTOMER_WALLET)
    assert wallet.balance_minor == 9 * PRICE
    store.dispose()


def test_concurrent_payments_cannot_pass_the_daily_limit_together(
    money_url: str, ctx: MoneyContext, sharing: str
) -> None:
    store, scope, customer = world(money_url, ctx, topup_minor=100 * PRICE, per_day_minor=3 * PRICE)
    results = in_parallel(money_url, [pay_once(ctx, scope, customer, f"day-{i}")
                                for i in range(THREADS)], sharing)
    outcomes = sorted((json.loads(r.body)["last_payment_error"] or {}).get("code", "ok")
                      for r, _ in results)
    assert outcomes == ["daily_limit_exceeded"] * 5 + ["ok"] * 3
    store.dispose()
