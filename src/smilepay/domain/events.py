"""Events (the outbox), webhook endpoints and deliveries, customer notifications."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment_intent.succeeded"
    PAYMENT_FAILED = "payment_intent.payment_failed"
    PAYMENT_REQUIRES_CAPTURE = "payment_intent.amount_capturable_updated"
    PAYMENT_CANCELED = "payment_intent.canceled"
    REFUND_CREATED = "refund.created"
    TOPUP_SUCCEEDED = "topup.succeeded"
    PAYOUT_PAID = "payout.paid"
    CUSTOMER_CREATED = "customer.created"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    id: str
    tenant_id: str
    livemode: bool
    type: str
    data_json: str
    created_at_ms: int


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    tenant_id: str
    livemode: bool
    url: str
    secret: str
    enabled_events: str  # comma-separated event types, or "*"
    disabled: bool
    created_at_ms: int


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    event_id: str
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at_ms: int
    last_status_code: int | None
    created_at_ms: int


@dataclass(frozen=True)
class Notification:
    id: str
    tenant_id: str
    livemode: bool
    customer_id: str
    kind: str
    subject: str
    body: str
    created_at_ms: int
    delivered_at_ms: int | None


# Backoff after each failed attempt; after the last one the delivery is marked failed.
RETRY_DELAYS_S: tuple[int, ...] = (5, 30, 120, 600, 1800, 3600, 6 * 3600)


def wants_event(endpoint: WebhookEndpoint, event_type: str) -> bool:
    wanted = {e.strip() for e in endpoint.enabled_events.split(",")}
    return not endpoint.disabled and ("*" in wanted or event_type in wanted)


def next_attempt_delay_s(attempts_made: int) -> int | None:
    """Seconds until the next try after ``attempts_made`` failures, or None to give up."""
    if attempts_made > len(RETRY_DELAYS_S):
        return None
    return RETRY_DELAYS_S[attempts_made - 1]
