"""Ledger use cases inside a transaction: accounts, transfers, holds, reversals.

Every change locks the accounts it touches (in id order), applies the pure rule from
``domain.ledger`` and writes the new balances with the transfer in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace

from smilepay.domain.ids import new_id
from smilepay.domain.ledger import (
    Account,
    AccountKind,
    Hold,
    HoldStatus,
    Transfer,
    TransferKind,
    apply_transfer,
    check_capture_minor,
    check_covered_transfer,
    release_hold,
    reserve_hold,
)
from smilepay.domain.money_errors import HoldNotPending, TransferAlreadyReversed
from smilepay.domain.tenants import Scope
from smilepay.errors import NotFound
from smilepay.ports.money import MoneyTx

SYSTEM_OWNER = ""
_NEGATIVE_ALLOWED = {AccountKind.FUNDING}


def ensure_account(
    tx: MoneyTx, scope: Scope, kind: AccountKind, currency: str, now_ms: int,
    owner_id: str = SYSTEM_OWNER,
) -> Account:
    """The account for (kind, owner, currency), opened at zero on first use."""
    found = tx.find_account(scope, kind, owner_id, currency)
    if found is not None:
        return found
    account = Account(
        id=new_id("acct", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        kind=kind, owner_id=owner_id, currency=currency,
        allow_negative=kind in _NEGATIVE_ALLOWED, balance_minor=0, pending_out_minor=0,
        created_at_ms=now_ms,
    )
    tx.insert(account)
    return account


def open_locked(
    tx: MoneyTx, scope: Scope, wanted: list[tuple[AccountKind, str, str]], now_ms: int
) -> list[Account]:
    """The accounts (kind, owner, currency), opened at zero when new, row-locked in id order
    for the rest of the transaction; in the order asked. One query when they all exist."""
    found = {(a.kind, a.owner_id, a.currency): a for a in tx.lock_owned_accounts(scope, wanted)}
    if len(found) < len(set(wanted)):
        for kind, owner, currency in wanted:
            if (kind, owner, currency) not in found:
                ensure_account(tx, scope, kind, currency, now_ms, owner_id=owner)
        found = {(a.kind, a.owner_id, a.currency): a
                 for a in tx.lock_owned_accounts(scope, wanted)}
    return [found[w] for w in wanted]


def post_transfer(
    tx: MoneyTx, scope: Scope, *, debit_id: str, credit_id: str, amount_minor: int,
    currency: str, kind: TransferKind, now_ms: int, payment_intent_id: str | None = None,
    reverses_id: str | None = None, locked_pair: tuple[Account, Account] | None = None,
) -> Transfer:
    """``locked_pair``: the (debit, credit) accounts as just locked by ``open_locked`` in this
    transaction, which saves locking them again."""
    if locked_pair is not None and (locked_pair[0].id, locked_pair[1].id) == (debit_id, credit_id):
        debit, credit = locked_pair
    else:
        locked = tx.lock_accounts([debit_id, credit_id])
        debit, credit = locked[debit_id], locked[credit_id]
    debit, credit = apply_transfer(debit, credit, amount_minor, currency)
    tx.save_balances([debit, credit])
    return _record_transfer(tx, scope, debit_id, credit_id, amount_minor, currency, kind, now_ms,
                            payment_intent_id, reverses_id)


def post_credit_last(
    tx: MoneyTx, scope: Scope, *, debit: Account, credit: Account, amount_minor: int,
    currency: str, kind: TransferKind, now_ms: int, payment_intent_id: str | None = None,
) -> Transfer:
    """A transfer from ``debit`` (locked by this transaction) to ``credit`` (not locked: its
    balance is not read). A credit can never break a balance floor, so it is added by the
    transaction's last statement (``MoneyTx.credit_at_commit``): the merchant balance that every
    payment credits is then locked for the commit only, not for the whole payment."""
    debit, _ = apply_transfer(debit, credit, amount_minor, currency)
    tx.save_balances([debit])
    tx.credit_at_commit(credit.id, amount_minor)
    return _record_transfer(tx, scope, debit.id, credit.id, amount_minor, currency, kind, now_ms,
                            payment_intent_id, None)


def pass_on_credit(
    tx: MoneyTx, scope: Scope, *, debit: Account, credit: Account, amount_minor: int,
    currency: str, kind: TransferKind, now_ms: int, payment_intent_id: str | None = None,
) -> Transfer:
    """A transfer out of the credit this transaction has pending on ``debit`` (the platform fee
    out of the payment just credited to the merchant), also applied last. When no pending
    credit covers it, the ordinary locked transfer runs instead."""
    covering = tx.pending_credit(debit.id)
    if covering < amount_minor:
        return post_transfer(tx, scope, debit_id=debit.id, credit_id=credit.id,
                             amount_minor=amount_minor, currency=currency, kind=kind,
                             now_ms=now_ms, payment_intent_id=payment_intent_id)
    check_covered_transfer(debit, credit, amount_minor, currency, covering)
    tx.credit_at_commit(debit.id, -amount_minor)
    tx.credit_at_commit(credit.id, amount_minor)
    return _record_transfer(tx, scope, debit.id, credit.id, amount_minor, currency, kind, now_ms,
                            payment_intent_id, None)


def _record_transfer(
    tx: MoneyTx, scope: Scope, debit_id: str, credit_id: str, amount_minor: int, currency: str,
    kind: TransferKind, now_ms: int, payment_intent_id: str | None, reverses_id: str | None,
) -> Transfer:
    transfer = Transfer(
        id=new_id("tr", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode, kind=kind,
        debit_account_id=debit_id, credit_account_id=credit_id, amount_minor=amount_minor,
        currency=currency, payment_intent_id=payment_intent_id, reverses_id=reverses_id,
        created_at_ms=now_ms,
    )
    tx.insert(transfer)
    return transfer


def reverse_transfer(tx: MoneyTx, scope: Scope, transfer_id: str, now_ms: int) -> Transfer:
    """A new transfer undoing ``transfer_id`` (at most once; the original is never edited)."""
    original = tx.get(Transfer, transfer_id, scope)
    if original is None:
        raise NotFound(f"expected a transfer id, got {transfer_id!r}", param="transfer")
    if original.kind is TransferKind.REVERSAL or tx.find_reversal(transfer_id) is not None:
        raise TransferAlreadyReversed(
            f"expected a transfer that was never reversed, got {transfer_id}",
            transfer=transfer_id,
        )
    return post_transfer(
        tx, scope, debit_id=original.credit_account_id, credit_id=original.debit_account_id,
        amount_minor=original.amount_minor, currency=original.currency,
        kind=TransferKind.REVERSAL, now_ms=now_ms, payment_intent_id=original.payment_intent_id,
        reverses_id=original.id,
    )


def place_hold(
    tx: MoneyTx, scope: Scope, *, debit_id: str, credit_id: str, amount_minor: int,
    currency: str, now_ms: int, ttl_s: int, payment_intent_id: str | None = None,
    locked_pair: tuple[Account, Account] | None = None,
) -> Hold:
    if locked_pair is not None and (locked_pair[0].id, locked_pair[1].id) == (debit_id, credit_id):
        pair = locked_pair
    else:
        locked = tx.lock_accounts([debit_id, credit_id])
        pair = (locked[debit_id], locked[credit_id])
    debit = reserve_hold(pair[0], pair[1], amount_minor, currency)
    tx.save_balances([debit])
    hold = Hold(
        id=new_id("hold", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        debit_account_id=debit_id, credit_account_id=credit_id, amount_minor=amount_minor,
        currency=currency, status=HoldStatus.PENDING, captured_minor=0,
        expires_at_ms=now_ms + ttl_s * 1000, payment_intent_id=payment_intent_id,
        created_at_ms=now_ms, resolved_at_ms=None,
    )
    tx.insert(hold)
    return hold


def _pending_hold(tx: MoneyTx, scope: Scope, hold_id: str, now_ms: int) -> Hold:
    hold = tx.get(Hold, hold_id, scope, for_update=True)
    if hold is None:
        raise NotFound(f"expected a hold id, got {hold_id!r}", param="hold")
    if hold.status is not HoldStatus.PENDING:
        raise HoldNotPending(f"expected a pending hold, got {hold.status.value}", hold=hold_id)
    if now_ms >= hold.expires_at_ms:
        raise HoldNotPending("expected an unexpired hold, got one that expired", hold=hold_id)
    return hold


def capture_hold(
    tx: MoneyTx, scope: Scope, hold_id: str, capture_minor: int, now_ms: int,
    kind: TransferKind = TransferKind.PAYMENT,
) -> tuple[Hold, Transfer]:
    """Post ``capture_minor`` of the hold; the rest is released."""
    hold = _pending_hold(tx, scope, hold_id, now_ms)
    check_capture_minor(hold, capture_minor)
    locked = tx.lock_accounts([hold.debit_account_id, hold.credit_account_id])
    released = release_hold(hold, locked[hold.debit_account_id])
    transfer = post_transfer(
        tx, scope, debit_id=hold.debit_account_id, credit_id=hold.credit_account_id,
        amount_minor=capture_minor, currency=hold.currency, kind=kind, now_ms=now_ms,
        payment_intent_id=hold.payment_intent_id,
        locked_pair=(released, locked[hold.credit_account_id]),
    )
    posted = replace(
        hold, status=HoldStatus.POSTED, captured_minor=capture_minor, resolved_at_ms=now_ms
    )
    tx.update(posted)
    return posted, transfer


def void_hold(
    tx: MoneyTx, scope: Scope, hold_id: str, now_ms: int, *, expired: bool = False
) -> Hold:
    hold = tx.get(Hold, hold_id, scope, for_update=True)
    if hold is None:
        raise NotFound(f"expected a hold id, got {hold_id!r}", param="hold")
    locked = tx.lock_accounts([hold.debit_account_id])
    tx.save_balances([release_hold(hold, locked[hold.debit_account_id])])
    status = HoldStatus.EXPIRED if expired else HoldStatus.VOIDED
    done = replace(hold, status=status, resolved_at_ms=now_ms)
    tx.update(done)
    return done


def expire_holds(tx: MoneyTx, now_ms: int, limit: int = 500) -> list[Hold]:
    """Release every pending hold past its expiry (run by the worker loop)."""
    return [
        void_hold(tx, Scope(h.tenant_id, h.livemode), h.id, now_ms, expired=True)
        for h in tx.expired_holds(now_ms, limit)
    ]
