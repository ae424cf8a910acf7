"""Crash safety on both engines: a failure between the ledger write and the response leaves
no half payment, and the retry with the same Idempotency-Key completes it exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import AccountKind
from smilepay.domain.payments import PaymentIntent
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
KEY = "order-42"
FINGERPRINT = fingerprint_request("POST", "/v1/payment_intents", b'{"amount_minor":300}')

CHILD = """
import os, sys
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.tenants import Scope
from smilepay.ports.money import KeyClaim
from smilepay.services import payments
from smilepay.services.context import MoneyContext, SystemClock
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
url, tenant, customer, key, fingerprint = sys.argv[1:6]
ctx = MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
scope = Scope(tenant, False)
def work(tx):
    now = ctx.clock.now_ms()
    assert tx.claim_idempotency_key(scope, KeyClaim(key, fingerprint, now,
                                                    now + 86_400_000)) is None
    intent = payments.create_payment(tx, ctx, scope, amount_minor=300, currency="EUR",
                                     customer_id=customer)
    payments.confirm_payment(tx, ctx, scope, intent.id)
    os._exit(17)  # the process dies after the ledger write, before the response is stored
SqlMoneyStore.from_url(url).run(work)
"""


def setup_world(url: str) -> tuple[SqlMoneyStore, MoneyContext, Scope, str]:
    ctx = MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    store = SqlMoneyStore.from_url(url)
    scope = seed_merchant(store, ctx, "Crashy").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=1000,
                                 limits=CustomerLimits(10**6, 10**6))
    return store, ctx, scope, customer


def pay(ctx: MoneyContext, scope: Scope, customer: str, crash: bool):  # type: ignore[no-untyped-def]
    def operation(tx: MoneyTx) -> StoredResponse:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=300, currency="EUR",
                                         customer_id=customer)
        done = payments.confirm_payment(tx, ctx, scope, intent.id)
        if crash:
            raise RuntimeError("injected failure after the ledger write")
        return StoredResponse(200, json.dumps(payment_view(done)).encode())

    return operation


def wallet_and_intents(store: SqlMoneyStore, scope: Scope) -> tuple[int, int]:
    def work(tx: MoneyTx) -> tuple[int, int]:
        wallet = next(a for a in tx.all_accounts(scope) if a.kind is AccountKind.CUSTOMER_WALLET)
        return wallet.balance_minor, len(tx.list_page(PaymentIntent, scope, limit=50).items)

    return store.run(work, write=False)


def test_an_exception_after_the_ledger_write_leaves_nothing_and_the_retry_completes(
    money_url: str,
) -> None:
    store, ctx, scope, customer = setup_world(money_url)
    with pytest.raises(RuntimeError, match="injected"):
        run_idempotent(store, scope, KEY, FINGERPRINT, ctx.clock.now_ms(), 86_400,
                       pay(ctx, scope, customer, crash=True))
    assert wallet_and_intents(store, scope) == (1000, 0)

    first, replayed = run_idempotent(store, scope, KEY, FINGERPRINT, ctx.clock.now_ms(), 86_400,
                                     pay(ctx, scope, customer, crash=False))
    again, replayed_again = run_idempotent(store, scope, KEY, FINGERPRINT, ctx.clock.now_ms(),
                                           86_400, pay(ctx, scope, customer, crash=False))
    assert (replayed, replayed_again) == (False, True)
    assert first == again and json.loads(first.body)["status"] == "succeeded"
    assert wallet_and_intents(store, scope) == (700, 1)
    store.dispose()


def test_a_process_killed_mid_payment_leaves_nothing_and_the_retry_completes(
    money_url: str,
) -> None:
    store, ctx, scope, customer = setup_world(money_url)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, money_url, scope.tenant_id, customer, KEY, FINGERPRINT],
        capture_output=True, text=True, timeout=60,
    )
    assert child.returncode == 17, child.stderr
    assert wallet_and_intents(store, scope) == (1000, 0)

    response, replayed = run_idempotent(store, scope, KEY, FINGERPRINT, ctx.clock.now_ms(),
                                        86_400, pay(ctx, scope, customer, crash=False))
    assert not replayed and json.loads(response.body)["status"] == "succeeded"
    assert wallet_and_intents(store, scope) == (700, 1)
    store.dispose()
