"""Read-ahead (adapters/sql/read_ahead.py) on both engines: a batch's claims, wallet locks and
standings are read with one statement each, and every unit still gets exactly what its own
statement would have returned: a key is never owned twice, a second payment sees the first's
spend, a risk window is counted as the unit asks it, and a wrong hint only costs time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import event

from money_support import queued_in_one_batch
from smilepay.adapters.sql import statements as st
from smilepay.adapters.sql.provision import scratch_database
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import AccountKind, sum_by_currency
from smilepay.domain.money_errors import IdempotencyKeyReused
from smilepay.domain.payments import PaymentIntent
from smilepay.domain.risk import DAY_MS, CustomerLimits
from smilepay.domain.tenants import Scope
from smilepay.ports.money import Hint, KeyClaim, MoneyTx, PayerHint, StoredResponse
from smilepay.services import payments
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.customers import top_up
from smilepay.services.idempotency import fingerprint_request, run_idempotent
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx() -> MoneyContext:
    return MoneyContext(clock=FixedClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))


def shop(store: SqlMoneyStore, ctx: MoneyContext, customers: int, *, per_day: int = 10**9,
         ) -> tuple[Scope, list[str]]:
    scope = seed_merchant(store, ctx, "Read-ahead shop").scope
    ids = seed_customers(store, ctx, scope, customers, topup_minor=10_000,
                         limits=CustomerLimits(10**6, per_day))
    return scope, ids


def call_as_route(store: SqlMoneyStore, ctx: MoneyContext, scope: Scope, key: str,
                  operation: Callable[[MoneyTx], PaymentIntent], payer: PayerHint | None,
                  ) -> Callable[[], tuple[bytes, bool]]:
    """``operation`` as a route runs it: its key, fingerprint and payer hint made now (the
    request's time); the returned call runs it and gives the response body and the replay
    flag."""
    def stored(tx: MoneyTx) -> StoredResponse:
        intent = operation(tx)
        return StoredResponse(200, json.dumps({"id": intent.id,
                                               "status": intent.status.value}).encode())

    fingerprint = fingerprint_request("POST", "/v1/payment_intents", repr(operation).encode())
    now_ms = ctx.clock.now_ms()

    def call() -> tuple[bytes, bool]:
        response, replayed = run_idempotent(store, scope, key, fingerprint, now_ms, 3600,
                                            stored, payer=payer)
        return response.body, replayed

    return call


@dataclass(frozen=True)
class CreateAndConfirm:
    """``POST /v1/payment_intents`` with ``confirm: true`` (its repr is the request body)."""

    ctx: MoneyContext = field(repr=False)
    scope: Scope = field(repr=False)
    customer: str
    amount: int
    currency: str

    def __call__(self, tx: MoneyTx) -> PaymentIntent:
        intent = payments.create_payment(tx, self.ctx, self.scope, amount_minor=self.amount,
                                         currency=self.currency, customer_id=self.customer,
                                         insert=False)
        return payments.confirm_payment(tx, self.ctx, self.scope, intent.id, created=intent)


def pay_call(store: SqlMoneyStore, ctx: MoneyContext, scope: Scope, customer: str, amount: int,
             key: str, *, currency: str = "EUR", hint_currency: str | None = None,
             ) -> Callable[[], tuple[bytes, bool]]:
    """A create-and-confirm payment, hinted in its own currency unless ``hint_currency``."""
    payer = payments.payer_hint(ctx, customer, hint_currency or currency)
    return call_as_route(store, ctx, scope, key,
                         CreateAndConfirm(ctx, scope, customer, amount, currency), payer)


@contextmanager
def statements(store: SqlMoneyStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def status(body: bytes) -> str:
    return str(json.loads(body)["status"])


def wallets(store: SqlMoneyStore, scope: Scope) -> dict[str, int]:
    """Each customer's wallet balance, once the ledger is checked to sum to zero."""
    accounts = store.run(lambda tx: tx.all_accounts(scope), write=False)
    assert sum_by_currency(accounts) == {"EUR": 0}
    return {a.owner_id: a.balance_minor for a in accounts
            if a.kind is AccountKind.CUSTOMER_WALLET}


def test_a_batch_claims_locks_and_reads_standings_with_one_statement_each(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    scope, customers = shop(store, ctx, 6)
    calls = [pay_call(store, ctx, scope, c, 100 + i, f"ra-{c}") for i, c in enumerate(customers)]
    with statements(store) as seen:
        futures = queued_in_one_batch(store, calls)
    results = [f.result() for f in futures]
    assert [(status(body), replayed) for body, replayed in results] == [("succeeded", False)] * 6

    claims = [s for s in seen if s.startswith("INSERT INTO idempotency_keys")]
    locks = [s for s in seen if "FROM accounts" in s and "owner_id IN" in s]
    standings = [s for s in seen if "FROM customers" in s]
    assert (len(claims), len(locks), len(standings)) == (1, 1, 1)

    assert wallets(store, scope) == {c: 10_000 - (100 + i) for i, c in enumerate(customers)}


def test_a_wrong_hint_costs_a_lookup_not_correctness(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    """Hinted in USD, paid in EUR: the USD read-ahead finds no wallet and answers nothing."""
    scope, (customer,) = shop(store, ctx, 1, per_day=1000)
    futures = queued_in_one_batch(store, [
        pay_call(store, ctx, scope, customer, 600, "w-1", hint_currency="USD"),
        pay_call(store, ctx, scope, customer, 600, "w-2", hint_currency="USD"),
    ])
    assert [status(f.result()[0]) for f in futures] == ["succeeded", "failed"]  # the day's limit
    assert wallets(store, scope) == {customer: 10_000 - 600}


def test_a_key_used_twice_in_one_batch_is_owned_once(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    scope, (customer,) = shop(store, ctx, 1)
    futures = queued_in_one_batch(store, [
        pay_call(store, ctx, scope, customer, 300, "same-key"),
        pay_call(store, ctx, scope, customer, 999, "same-key"),  # another request: refused
        pay_call(store, ctx, scope, customer, 300, "same-key"),  # the same one: replayed
    ])
    first, replay = futures[0].result(), futures[2].result()
    assert isinstance(futures[1].exception(), IdempotencyKeyReused)
    assert (status(first[0]), first[1]) == ("succeeded", False)
    assert replay == (first[0], True)  # byte for byte
    assert wallets(store, scope) == {customer: 10_000 - 300}


def test_a_hint_that_is_not_the_claim_never_lets_a_key_be_owned_twice(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    """The read-ahead claims (key, fingerprint A), but the unit claims (key, B): it owns the key
    through the database; a later unit claiming (key, A) is then refused, not let in."""
    scope, _ = shop(store, ctx, 0)
    now_ms = ctx.clock.now_ms()

    def claim(fingerprint: str) -> Callable[[MoneyTx], str]:
        def work(tx: MoneyTx) -> str:
            stored = tx.claim_idempotency_key(scope, KeyClaim("k", fingerprint, now_ms,
                                                              now_ms + 10**6))
            if stored is not None:
                return "replay"
            tx.store_idempotent_response(scope, "k", StoredResponse(200, fingerprint.encode()))
            return "owned"
        return work

    hint = Hint(scope, claim=KeyClaim("k", "A", now_ms, now_ms + 10**6))
    futures = queued_in_one_batch(store, [partial(store.run, claim("B"), hint=hint),
                                          partial(store.run, claim("A"))])
    assert futures[0].result() == "owned"
    assert isinstance(futures[1].exception(), IdempotencyKeyReused)


def test_a_second_payment_in_the_batch_counts_the_first_against_the_daily_limit(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    scope, (customer,) = shop(store, ctx, 1, per_day=1000)
    futures = queued_in_one_batch(store, [
        pay_call(store, ctx, scope, customer, 700, "day-1"),
        pay_call(store, ctx, scope, customer, 700, "day-2"),
    ])
    assert [status(f.result()[0]) for f in futures] == ["succeeded", "failed"]


def test_a_wallet_read_ahead_is_not_used_once_balances_were_written(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    """The first payment's wallet save is buffered; the attempt between the two payments
    writes every buffered row (balances too): the second payment must read the wallet again
    (6,000 of the 10,000 are gone: another 6,000 is declined)."""
    scope, (customer, other) = shop(store, ctx, 2)

    def attempt(tx: MoneyTx) -> None:
        payments.record_verification_attempt(tx, ctx, scope, other, succeeded=True,
                                             reason="face")

    futures = queued_in_one_batch(store, [
        pay_call(store, ctx, scope, customer, 6000, "f-1"),
        partial(store.run, attempt, hint=Hint(scope, PayerHint(customer))),  # runs between
        pay_call(store, ctx, scope, customer, 6000, "f-2"),
    ])
    assert [status(futures[i].result()[0]) for i in (0, 2)] == ["succeeded", "failed"]
    assert wallets(store, scope) == {customer: 4000, other: 10_000}


def test_wallets_are_locked_in_payer_order_read_ahead_or_not(
    store: SqlMoneyStore, ctx: MoneyContext,
) -> None:
    """Group commit runs payers in order so that two batches lock wallets alike (no deadlock).
    Confirming an existing intent names no currency, so its wallet is not read ahead: the
    read-ahead then locks only the payers before it, and the rest lock in their turn."""
    scope, ids = shop(store, ctx, 3)
    x, y, z = sorted(ids)
    existing = store.run(lambda tx: payments.create_payment(
        tx, ctx, scope, amount_minor=100, currency="EUR", customer_id=y).id)

    def confirm(tx: MoneyTx) -> PaymentIntent:
        return payments.confirm_payment(tx, ctx, scope, existing, y)

    locked: list[str] = []

    def note(conn: object, statement: object, multiparams: object,
             params: dict[str, object], execution_options: object) -> None:
        if statement is st.lock_wallets_stmt(store.engine.dialect.name == "postgresql"):
            locked.extend(params["b_owners"])  # type: ignore[arg-type]
        elif "b_owner_0" in params:  # a unit's own lock_owned_accounts
            locked.append(str(params["b_owner_0"]))

    event.listen(store.engine, "before_execute", note)
    try:
        futures = queued_in_one_batch(store, [
            pay_call(store, ctx, scope, z, 10, "order-z"),
            call_as_route(store, ctx, scope, "order-y", confirm, payments.payer_hint(ctx, y)),
            pay_call(store, ctx, scope, x, 10, "order-x"),
        ])
    finally:
        event.remove(store.engine, "before_execute", note)
    assert [status(f.result()[0]) for f in futures] == ["succeeded"] * 3
    assert locked == [x, y, z]


def test_no_standing_is_read_ahead_for_a_payer_without_a_wallet_to_lock(
    postgres_url: str, tmp_path: Path, ctx: MoneyContext,
) -> None:
    """PostgreSQL, two stores (two workers). The read-ahead finds no USD wallet to lock; before
    the unit's turn the other worker opens one and pays 700 USD. The unit must see those 700
    against its 1,000 daily limit: its standing is read after its own lock, not ahead."""
    with scratch_database("postgres", tmp_path, postgres_url) as url:
        mine, other = SqlMoneyStore.from_url(url), SqlMoneyStore.from_url(url)
        scope, (customer,) = shop(mine, ctx, 1, per_day=1000)  # an EUR wallet only
        interleaved: list[bytes] = []

        def before_own_lock(conn: object, cursor: object, statement: str, *args: object
                            ) -> None:
            if "b_kind_0" in statement and not interleaved:  # the unit's own wallet lock
                other.run(lambda tx: top_up(tx, ctx, scope, customer, 5000, "USD"))
                interleaved.append(pay_call(other, ctx, scope, customer, 700, "theirs",
                                            currency="USD")()[0])

        event.listen(mine.engine, "before_cursor_execute", before_own_lock)
        try:
            (future,) = queued_in_one_batch(mine, [
                pay_call(mine, ctx, scope, customer, 700, "mine", currency="USD")])
        finally:
            event.remove(mine.engine, "before_cursor_execute", before_own_lock)
            mine.dispose()
            other.dispose()
        assert [status(b) for b in interleaved] == ["succeeded"]
        assert status(future.result()[0]) == "failed"  # 700 + 700 > 1,000 today


@pytest.mark.parametrize(("later_ms", "expected"), [(10, "succeeded"), (3, "failed")])
def test_the_daily_window_is_counted_from_when_the_payment_runs(
    store: SqlMoneyStore, ctx: MoneyContext, later_ms: int, expected: str,
) -> None:
    """A 700 payment made 5 ms inside the hint's 24 h window; the unit runs ``later_ms`` after
    the hint was made: 10 ms later that payment is out of its window (a second 700 fits the
    1000 limit), 3 ms later it is still in (the second is declined)."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    scope, (customer,) = shop(store, ctx, 1, per_day=1000)
    clock.now = 1_900_000_000_000 - DAY_MS + 5
    assert status(pay_call(store, ctx, scope, customer, 700, "old")()[0]) == "succeeded"
    clock.now = 1_900_000_000_000
    call = pay_call(store, ctx, scope, customer, 700, "new")
    clock.now += later_ms
    assert status(call()[0]) == expected
