"""The SQL ledger on both engines: the rules hold in code AND in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import (
    AccountKind,
    HoldStatus,
    TransferKind,
    replay_balances,
    sum_by_currency,
)
from smilepay.domain.money_errors import (
    HoldNotPending,
    InsufficientFunds,
    TransferAlreadyReversed,
)
from smilepay.domain.tenants import Scope
from smilepay.ports.money import MoneyTx
from smilepay.services import ledger
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.tenants import create_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx() -> MoneyContext:
    return MoneyContext(clock=FixedClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))


def open_accounts(store: SqlMoneyStore, now_ms: int) -> tuple[Scope, dict[str, str]]:
    def work(tx: MoneyTx) -> tuple[Scope, dict[str, str]]:
        scope = Scope(create_tenant(tx, "Ledger Co", now_ms).id, False)
        kinds = {
            "funding": ledger.ensure_account(tx, scope, AccountKind.FUNDING, "EUR", now_ms),
            "wallet": ledger.ensure_account(tx, scope, AccountKind.CUSTOMER_WALLET, "EUR",
                                            now_ms, owner_id="cus_x"),
            "merchant": ledger.ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, "EUR",
                                              now_ms),
            "usd": ledger.ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, "USD", now_ms),
        }
        return scope, {k: v.id for k, v in kinds.items()}

    return store.run(work)


def test_transfers_holds_and_reversals_keep_the_books(
    store: SqlMoneyStore, ctx: MoneyContext
) -> None:
    now = ctx.clock.now_ms()
    scope, ids = open_accounts(store, now)

    def move(tx: MoneyTx) -> None:
        ledger.post_transfer(tx, scope, debit_id=ids["funding"], credit_id=ids["wallet"],
                             amount_minor=1000, currency="EUR", kind=TransferKind.TOPUP,
                             now_ms=now)
        hold = ledger.place_hold(tx, scope, debit_id=ids["wallet"], credit_id=ids["merchant"],
                                 amount_minor=600, currency="EUR", now_ms=now, ttl_s=60)
        with pytest.raises(InsufficientFunds):  # 1000 - 600 held leaves 400
            ledger.post_transfer(tx, scope, debit_id=ids["wallet"], credit_id=ids["merchant"],
                                 amount_minor=401, currency="EUR", kind=TransferKind.PAYMENT,
                                 now_ms=now)
        posted, transfer = ledger.capture_hold(tx, scope, hold.id, 450, now)
        assert posted.status is HoldStatus.POSTED and transfer.amount_minor == 450
        with pytest.raises(HoldNotPending):
            ledger.void_hold(tx, scope, hold.id, now)
        ledger.reverse_transfer(tx, scope, transfer.id, now)
        with pytest.raises(TransferAlreadyReversed):
            ledger.reverse_transfer(tx, scope, transfer.id, now)

    store.run(move)
    accounts = {a.id: a for a in store.run(lambda tx: tx.all_accounts(scope), write=False)}
    assert accounts[ids["wallet"]].balance_minor == 1000
    assert accounts[ids["wallet"]].pending_out_minor == 0
    assert accounts[ids["merchant"]].balance_minor == 0
    assert sum_by_currency(accounts.values()) == {"EUR": 0, "USD": 0}
    replayed = replay_balances(store.run(lambda tx: tx.all_transfers(scope), write=False))
    assert all(replayed.get(i, 0) == a.balance_minor for i, a in accounts.items())


def test_a_failed_rule_rolls_back_the_whole_unit_of_work(
    store: SqlMoneyStore, ctx: MoneyContext
) -> None:
    now = ctx.clock.now_ms()
    scope, ids = open_accounts(store, now)

    def half_then_fail(tx: MoneyTx) -> None:
        ledger.post_transfer(tx, scope, debit_id=ids["funding"], credit_id=ids["wallet"],
                             amount_minor=300, currency="EUR", kind=TransferKind.TOPUP,
                             now_ms=now)
        ledger.post_transfer(tx, scope, debit_id=ids["wallet"], credit_id=ids["merchant"],
                             amount_minor=301, currency="EUR", kind=TransferKind.PAYMENT,
                             now_ms=now)

    with pytest.raises(InsufficientFunds):
        store.run(half_then_fail)
    assert store.run(lambda tx: tx.all_transfers(scope), write=False) == []


@pytest.mark.parametrize("statement", [
    "UPDATE accounts SET balance_minor = -1 WHERE id = :wallet",
    "UPDATE accounts SET pending_out_minor = 1 WHERE id = :wallet",
    "INSERT INTO transfers (id, tenant_id, livemode, created_at_ms, kind, debit_account_id, "
    "credit_account_id, amount_minor, currency) VALUES ('tr_bad1', :tenant, false, 0, 'payment',"
    " :wallet, :usd, 5, 'EUR')",
    "INSERT INTO transfers (id, tenant_id, livemode, created_at_ms, kind, debit_account_id, "
    "credit_account_id, amount_minor, currency) VALUES ('tr_bad2', :tenant, false, 0, 'payment',"
    " :wallet, :merchant, 0, 'EUR')",
])
def test_the_database_refuses_what_the_rules_forbid(
    store: SqlMoneyStore, ctx: MoneyContext, statement: str
) -> None:
    scope, ids = open_accounts(store, ctx.clock.now_ms())
    params = {**ids, "tenant": scope.tenant_id}
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_transfers_cannot_be_edited_or_deleted(store: SqlMoneyStore, ctx: MoneyContext) -> None:
    now = ctx.clock.now_ms()
    scope, ids = open_accounts(store, now)
    transfer = store.run(lambda tx: ledger.post_transfer(
        tx, scope, debit_id=ids["funding"], credit_id=ids["wallet"], amount_minor=5,
        currency="EUR", kind=TransferKind.TOPUP, now_ms=now))
    for statement in ("UPDATE transfers SET amount_minor = 6 WHERE id = :id",
                      "DELETE FROM transfers WHERE id = :id"):
        with pytest.raises(SQLAlchemyError, match="immutable"), store.engine.begin() as conn:
            conn.execute(text(statement), {"id": transfer.id})


def test_expired_holds_are_released(store: SqlMoneyStore, ctx: MoneyContext) -> None:
    now = ctx.clock.now_ms()
    scope, ids = open_accounts(store, now)

    def hold(tx: MoneyTx) -> str:
        ledger.post_transfer(tx, scope, debit_id=ids["funding"], credit_id=ids["wallet"],
                             amount_minor=100, currency="EUR", kind=TransferKind.TOPUP,
                             now_ms=now)
        return ledger.place_hold(tx, scope, debit_id=ids["wallet"], credit_id=ids["merchant"],
                                 amount_minor=100, currency="EUR", now_ms=now, ttl_s=60).id

    hold_id = store.run(hold)
    with pytest.raises(HoldNotPending):
        store.run(lambda tx: ledger.capture_hold(tx, scope, hold_id, 100, now + 61_000))
    expired = store.run(lambda tx: ledger.expire_holds(tx, now + 61_000))
    assert hold_id in [h.id for h in expired]
    wallet = {a.id: a for a in store.run(lambda tx: tx.all_accounts(scope))}[ids["wallet"]]
    assert (wallet.balance_minor, wallet.pending_out_minor) == (100, 0)
