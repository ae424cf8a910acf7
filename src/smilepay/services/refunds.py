"""Refunds (full or partial, never more than captured) and merchant payouts."""

from __future__ import annotations

from dataclasses import replace

from smilepay.domain.events import EventType
from smilepay.domain.ids import new_id
from smilepay.domain.ledger import AccountKind, Transfer, TransferKind
from smilepay.domain.money import check_amount_minor, format_money, parse_currency
from smilepay.domain.payments import PaymentIntent, Refund, check_refund_minor
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.money import MoneyTx
from smilepay.services.context import MoneyContext
from smilepay.services.events import notify_customer, record_event
from smilepay.services.ledger import ensure_account, post_transfer
from smilepay.services.payments import get_payment
from smilepay.services.views import payout_view, refund_view

MAX_REASON_CHARS = 200


def create_refund(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, payment_id: str,
    amount_minor: int | None = None, reason: str = "",
) -> tuple[Refund, PaymentIntent]:
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"expected a reason of at most {MAX_REASON_CHARS} chars, "
                           f"got {len(reason)}", param="reason")
    intent = get_payment(tx, scope, payment_id, lock=True)
    amount = check_refund_minor(intent, amount_minor)
    now_ms = ctx.clock.now_ms()
    if intent.customer_id is None:
        raise InvalidInput("expected a payment with a customer, got none", param="payment_intent")
    merchant = ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, intent.currency, now_ms)
    wallet = ensure_account(tx, scope, AccountKind.CUSTOMER_WALLET, intent.currency, now_ms,
                            owner_id=intent.customer_id)
    transfer = post_transfer(
        tx, scope, debit_id=merchant.id, credit_id=wallet.id, amount_minor=amount,
        currency=intent.currency, kind=TransferKind.REFUND, now_ms=now_ms,
        payment_intent_id=intent.id,
    )
    refund = Refund(
        id=new_id("re", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        payment_intent_id=intent.id, amount_minor=amount, currency=intent.currency,
        reason=reason, transfer_id=transfer.id, created_at_ms=now_ms,
    )
    tx.insert(refund)
    updated = replace(intent, amount_refunded_minor=intent.amount_refunded_minor + amount,
                      updated_at_ms=now_ms)
    tx.update(updated)
    record_event(tx, scope, EventType.REFUND_CREATED, refund_view(refund), now_ms)
    notify_customer(tx, scope, intent.customer_id, "refund", f"Refund {refund.id}",
                    f"Refunded {format_money(amount, intent.currency)} for your payment of "
                    f"{format_money(intent.amount_minor, intent.currency)}.", now_ms)
    return refund, updated


def create_payout(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, amount_minor: int, currency: str
) -> Transfer:
    """Move money out of the merchant balance (the bank leg is outside the ledger)."""
    check_amount_minor(amount_minor)
    currency = parse_currency(currency)
    now_ms = ctx.clock.now_ms()
    merchant = ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, currency, now_ms)
    payouts = ensure_account(tx, scope, AccountKind.PAYOUTS, currency, now_ms)
    transfer = post_transfer(
        tx, scope, debit_id=merchant.id, credit_id=payouts.id, amount_minor=amount_minor,
        currency=currency, kind=TransferKind.PAYOUT, now_ms=now_ms,
    )
    record_event(tx, scope, EventType.PAYOUT_PAID, payout_view(transfer), now_ms)
    return transfer
