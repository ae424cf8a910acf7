"""Read models and small actions for the pages: the kiosk's waiting payment, the customer's
wallet (balance, receipts, notifications, consent, deletion receipts), test-mode top-up,
the merchant's Happy Go switch.
"""

from __future__ import annotations

from typing import Any

from smilepay.domain.customers import Customer
from smilepay.domain.events import Notification
from smilepay.domain.happy_go import Promotion
from smilepay.domain.ids import new_id
from smilepay.domain.payments import PaymentIntent, PaymentStatus, is_unpaid_past
from smilepay.domain.tenants import Scope, Tenant, Terminal
from smilepay.ports.money import MoneyTx
from smilepay.services.customers import render_customer, top_up, wallet
from smilepay.services.face_context import FaceContext
from smilepay.services.face_guard import terminal_payment_view
from smilepay.services.face_money import MoneySide
from smilepay.services.tenants import Caller
from smilepay.services.views import account_view, notification_view, payment_view, topup_view


def list_pending_payment(fc: FaceContext, money: MoneySide, caller: Caller) -> dict[str, Any]:
    """The terminal, its merchant, and the newest payment waiting at this terminal (if any)."""

    def work(tx: MoneyTx) -> dict[str, Any]:
        tenant = tx.get(Tenant, caller.scope.tenant_id)
        terminal = tx.get(Terminal, caller.terminal_id, caller.scope) if caller.terminal_id \
            else None
        equals: dict[str, object] = {"status": PaymentStatus.REQUIRES_CONFIRMATION.value}
        if caller.terminal_id:
            equals["terminal_id"] = caller.terminal_id
        page = tx.list_page(PaymentIntent, caller.scope, limit=1, equals=equals)
        now_ms = money.ctx.clock.now_ms()  # one past its time waits for the worker to cancel it
        waiting = [p for p in page.items
                   if not is_unpaid_past(p, now_ms, money.ctx.policy.unpaid_ttl_s)]
        return {
            "object": "terminal_state", "merchant": tenant.name if tenant else "",
            "terminal": terminal.name if terminal else None, "terminal_id": caller.terminal_id,
            "livemode": caller.scope.livemode,
            "payment": terminal_payment_view(waiting[0]) if waiting else None,
            "phone_policy": fc.policy.phone_policy.value,
        }

    return money.store.run(work, write=False)


def wallet_summary(fc: FaceContext, money: MoneySide, scope: Scope, customer_id: str,
                   currency: str) -> dict[str, Any]:
    def work(tx: MoneyTx) -> dict[str, Any]:
        customer = tx.get(Customer, customer_id, scope)
        account = wallet(tx, money.ctx, scope, customer_id, currency)
        notes = tx.list_page(Notification, scope, limit=50, equals={"customer_id": customer_id})
        pays = tx.list_page(PaymentIntent, scope, limit=50, equals={"customer_id": customer_id})
        return {
            "customer": render_customer(money.ctx, customer) if customer else None,
            "balance": account_view(account),
            "notifications": [notification_view(n) for n in notes.items],
            "payments": [payment_view(p) for p in pays.items],
        }

    found = money.store.run(work)
    consent = fc.identity.active_consent(scope, customer_id)
    templates = fc.identity.templates_of(scope, customer_id)
    found.update({
        "object": "wallet", "livemode": scope.livemode,
        "consent": None if consent is None else {
            "id": consent.consent_id, "version": consent.version,
            "granted": int(consent.granted_at.timestamp()),
            "retention_until": int(consent.retention_deadline().timestamp())},
        "face": {"templates": len(templates),
                 "models": sorted({t.model_id for t in templates}),
                 "key_ids": sorted({t.sealed.key_id for t in templates})},
        "deletion_receipts": [
            {"id": r.receipt_id, "templates_deleted": r.template_count, "reason": r.reason,
             "deleted": int(r.deleted_at.timestamp()), "digest": r.digest}
            for r in fc.identity.receipts_of(scope, customer_id)],
    })
    return found


def top_up_wallet(money: MoneySide, scope: Scope, customer_id: str, amount_minor: int,
                  currency: str) -> dict[str, Any]:
    return topup_view(money.store.run(
        lambda tx: top_up(tx, money.ctx, scope, customer_id, amount_minor, currency)), customer_id)


def set_promotion(fc: FaceContext, scope: Scope, active: bool, max_discount_bps: int,
                  cap_minor: int, min_smile: float, now_ms: int) -> dict[str, Any]:
    promotion = Promotion(new_id("promo", now_ms), max_discount_bps, cap_minor, min_smile) \
        if active else None
    fc.identity.set_promotion(scope, promotion, now_ms)
    return {"object": "happy_go_promotion", "active": active,
            "id": promotion.promotion_id if promotion else None,
            "max_discount_bps": max_discount_bps, "cap_minor": cap_minor,
            "min_smile": min_smile}
