"""Recording events in the outbox (same transaction as the change they describe)."""

from __future__ import annotations

import json
from typing import Any

from smilepay.domain.events import (
    DeliveryStatus,
    Event,
    Notification,
    WebhookDelivery,
    wants_event,
)
from smilepay.domain.ids import new_id
from smilepay.domain.tenants import Scope
from smilepay.ports.money import MoneyTx


def record_event(
    tx: MoneyTx, scope: Scope, event_type: str, data_object: dict[str, Any], now_ms: int
) -> Event:
    """Store the event and one pending delivery per endpoint that wants it."""
    event = Event(
        id=new_id("evt", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        type=event_type, data_json=json.dumps(data_object, separators=(",", ":")),
        created_at_ms=now_ms,
    )
    tx.insert(event)
    for endpoint in tx.endpoints(scope):
        if wants_event(endpoint, event_type):
            tx.insert(WebhookDelivery(
                id=new_id("whd", now_ms), event_id=event.id, endpoint_id=endpoint.id,
                status=DeliveryStatus.PENDING, attempts=0, next_attempt_at_ms=now_ms,
                last_status_code=None, created_at_ms=now_ms,
            ))
    return event


def notify_customer(
    tx: MoneyTx, scope: Scope, customer_id: str, kind: str, subject: str, body: str,
    now_ms: int,
) -> Notification:
    """Put a customer notification in the outbox (the wallet page reads it; a notifier sends)."""
    notification = Notification(
        id=new_id("ntf", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        customer_id=customer_id, kind=kind, subject=subject, body=body, created_at_ms=now_ms,
        delivered_at_ms=None,
    )
    tx.insert(notification)
    return notification


def event_payload(event: Event) -> dict[str, Any]:
    """The webhook body of an event."""
    return {
        "id": event.id, "object": "event", "type": event.type, "livemode": event.livemode,
        "created": event.created_at_ms // 1000, "data": {"object": json.loads(event.data_json)},
    }
