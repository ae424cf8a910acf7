"""Unpaid payment intents, both engines: they expire to canceled with an event after the policy's
time, and a terminal has at most one waiting (a newer one sent there cancels the older)."""

from __future__ import annotations

import json

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.events import Event
from smilepay.domain.payments import PaymentIntent, PaymentStatus
from smilepay.domain.tenants import Scope
from smilepay.ports.money import MoneyTx
from smilepay.services import payments
from smilepay.services.context import FixedClock, MoneyContext, MoneyPolicy
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant
from smilepay.services.tenants import create_terminal

pytestmark = pytest.mark.integration
TTL_S = 600


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ctx(clock: FixedClock) -> MoneyContext:
    return MoneyContext(clock=clock, phones=PhoneCipher(DEV_ONLY_MASTER_KEY),
                        policy=MoneyPolicy(unpaid_ttl_s=TTL_S))


def shop_with_terminal(store: SqlMoneyStore, ctx: MoneyContext) -> tuple[Scope, str]:
    scope = seed_merchant(store, ctx, "Expiry").scope
    terminal = store.run(lambda tx: create_terminal(tx, scope, "till", ctx.clock.now_ms()))
    return scope, terminal.id


def send(store: SqlMoneyStore, ctx: MoneyContext, scope: Scope, terminal: str | None,
         amount: int = 500) -> PaymentIntent:
    return store.run(lambda tx: payments.create_payment(
        tx, ctx, scope, amount_minor=amount, currency="EUR", terminal_id=terminal))


def read(store: SqlMoneyStore, scope: Scope, payment_id: str) -> PaymentIntent:
    return store.run(lambda tx: payments.get_payment(tx, scope, payment_id), write=False)


def canceled_events(store: SqlMoneyStore, scope: Scope) -> list[dict[str, object]]:
    def work(tx: MoneyTx) -> list[dict[str, object]]:
        page = tx.list_page(Event, scope, limit=100, equals={"type": "payment_intent.canceled"})
        return [json.loads(e.data_json) for e in page.items]

    return store.run(work, write=False)


def expire(store: SqlMoneyStore, ctx: MoneyContext) -> int:
    return store.run(lambda tx: payments.expire_unpaid_payments(tx, ctx))


def test_an_unpaid_intent_expires_to_canceled_with_an_event_after_the_policy_time(
        store: SqlMoneyStore, ctx: MoneyContext, clock: FixedClock) -> None:
    scope, _ = shop_with_terminal(store, ctx)
    old = send(store, ctx, scope, None)
    clock.advance_s(TTL_S - 1)
    young = send(store, ctx, scope, None)
    expire(store, ctx)  # other tests' intents in this database may expire; ours is not due
    assert read(store, scope, old.id).status is PaymentStatus.REQUIRES_CONFIRMATION
    clock.advance_s(1)
    assert expire(store, ctx) >= 1
    expired = read(store, scope, old.id)
    assert expired.status is PaymentStatus.CANCELED
    assert expired.cancellation_reason == "expired"
    assert read(store, scope, young.id).status is PaymentStatus.REQUIRES_CONFIRMATION
    events = canceled_events(store, scope)
    assert [e["id"] for e in events] == [old.id]
    assert events[0]["cancellation_reason"] == "expired"
    assert expire(store, ctx) == 0  # once only


def test_a_paid_or_held_intent_never_expires(store: SqlMoneyStore, ctx: MoneyContext,
                                            clock: FixedClock) -> None:
    scope = seed_merchant(store, ctx, "Paid").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=10_000,
                                 phone_base=4915170000000)

    def pay(tx: MoneyTx) -> PaymentIntent:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=300, currency="EUR",
                                         customer_id=customer)
        return payments.confirm_payment(tx, ctx, scope, intent.id)

    paid = store.run(pay)
    assert paid.status is PaymentStatus.SUCCEEDED
    clock.advance_s(TTL_S * 3)
    expire(store, ctx)
    assert read(store, scope, paid.id).status is PaymentStatus.SUCCEEDED
    assert canceled_events(store, scope) == []


def test_a_newer_payment_sent_to_a_terminal_cancels_the_one_waiting_there(
        store: SqlMoneyStore, ctx: MoneyContext, clock: FixedClock) -> None:
    scope, terminal = shop_with_terminal(store, ctx)
    _, other_terminal = shop_with_terminal(store, ctx)
    first = send(store, ctx, scope, terminal, 100)
    elsewhere = send(store, ctx, scope, None, 200)  # not at a terminal: untouched
    clock.advance_s(1)
    second = send(store, ctx, scope, terminal, 300)
    superseded = read(store, scope, first.id)
    assert superseded.status is PaymentStatus.CANCELED
    assert superseded.cancellation_reason == "superseded"
    assert read(store, scope, second.id).status is PaymentStatus.REQUIRES_CONFIRMATION
    assert read(store, scope, elsewhere.id).status is PaymentStatus.REQUIRES_CONFIRMATION
    waiting = store.run(lambda tx: tx.unpaid_payments(scope=scope, terminal_id=terminal),
                        write=False)
    assert [p.id for p in waiting] == [second.id]
    assert other_terminal != terminal


def test_a_merchant_cancel_says_it_was_requested(store: SqlMoneyStore, ctx: MoneyContext) -> None:
    scope, terminal = shop_with_terminal(store, ctx)
    intent = send(store, ctx, scope, terminal)
    canceled = store.run(lambda tx: payments.cancel_payment(tx, ctx, scope, intent.id))
    assert canceled.status is PaymentStatus.CANCELED
    assert canceled.cancellation_reason == "requested"
    assert canceled_events(store, scope)[0]["cancellation_reason"] == "requested"
