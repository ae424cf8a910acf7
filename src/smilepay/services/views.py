"""The one JSON shape of each object, shared by API responses and event payloads."""

from __future__ import annotations

from typing import Any

from smilepay.domain.customers import Customer
from smilepay.domain.events import Notification, WebhookEndpoint
from smilepay.domain.ledger import Account, Transfer, available_minor
from smilepay.domain.payments import PaymentIntent, Refund
from smilepay.domain.tenants import ApiKey, Terminal


def _created(ms: int) -> int:
    return ms // 1000


def payment_view(p: PaymentIntent) -> dict[str, Any]:
    error = (
        None if p.last_error_code is None
        else {"code": p.last_error_code, "message": p.last_error_message}
    )
    return {
        "id": p.id, "object": "payment_intent", "livemode": p.livemode,
        "amount_minor": p.amount_minor, "currency": p.currency, "status": p.status.value,
        "capture_method": p.capture_method.value, "customer": p.customer_id,
        "terminal": p.terminal_id, "description": p.description,
        "amount_captured_minor": p.amount_captured_minor,
        "amount_refunded_minor": p.amount_refunded_minor,
        "last_payment_error": error, "cancellation_reason": p.cancellation_reason,
        "created": _created(p.created_at_ms),
    }


def refund_view(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id, "object": "refund", "livemode": r.livemode,
        "payment_intent": r.payment_intent_id, "amount_minor": r.amount_minor,
        "currency": r.currency, "reason": r.reason, "status": "succeeded",
        "created": _created(r.created_at_ms),
    }


def customer_view(c: Customer, phone_masked: str) -> dict[str, Any]:
    return {
        "id": c.id, "object": "customer", "livemode": c.livemode, "name": c.name,
        "email": c.email, "phone": phone_masked,
        "limits": {
            "per_payment_minor": c.limit_per_payment_minor,
            "per_day_minor": c.limit_per_day_minor,
        },
        "created": _created(c.created_at_ms),
    }


def account_view(a: Account) -> dict[str, Any]:
    return {
        "object": "balance", "currency": a.currency,
        "available_minor": available_minor(a),
        "pending_minor": a.pending_out_minor, "balance_minor": a.balance_minor,
    }


def transfer_view(t: Transfer, account_id: str) -> dict[str, Any]:
    sign = 1 if t.credit_account_id == account_id else -1
    return {
        "id": t.id, "object": "balance_transaction", "type": t.kind.value,
        "amount_minor": sign * t.amount_minor, "currency": t.currency,
        "payment_intent": t.payment_intent_id, "reverses": t.reverses_id,
        "created": _created(t.created_at_ms),
    }


def topup_view(t: Transfer, customer_id: str) -> dict[str, Any]:
    return {"id": t.id, "object": "topup", "customer": customer_id,
            "amount_minor": t.amount_minor, "currency": t.currency,
            "created": _created(t.created_at_ms)}


def payout_view(t: Transfer) -> dict[str, Any]:
    """A payout leaves the ledger at once (the bank leg is outside it): always ``paid``."""
    return {"id": t.id, "object": "payout", "amount_minor": t.amount_minor,
            "currency": t.currency, "status": "paid", "created": _created(t.created_at_ms)}


def terminal_view(t: Terminal) -> dict[str, Any]:
    return {
        "id": t.id, "object": "terminal", "livemode": t.livemode, "name": t.name,
        "store_gate": t.store_gate, "created": _created(t.created_at_ms),
    }


def api_key_view(k: ApiKey, raw_key: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": k.id, "object": "api_key", "livemode": k.livemode, "kind": k.kind.value,
        "prefix": k.display_prefix, "terminal": k.terminal_id,
        "revoked": k.revoked_at_ms is not None, "created": _created(k.created_at_ms),
    }
    if raw_key is not None:
        view["key"] = raw_key  # shown once, at creation
    return view


def endpoint_view(e: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": e.id, "object": "webhook_endpoint", "livemode": e.livemode, "url": e.url,
        "enabled_events": e.enabled_events.split(","), "disabled": e.disabled,
        "created": _created(e.created_at_ms),
    }
    if with_secret:
        view["secret"] = e.secret
    return view


def notification_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id, "object": "notification", "kind": n.kind, "subject": n.subject,
        "body": n.body, "created": _created(n.created_at_ms),
    }
