"""The outbox worker: deliver pending webhooks, record every attempt, retry with backoff."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial

from smilepay.domain.events import (
    DeliveryStatus,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
    next_attempt_delay_s,
)
from smilepay.domain.ids import new_id
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.money import Clock, MoneyStore, MoneyTx
from smilepay.ports.notify import WebhookSender
from smilepay.services.events import event_payload
from smilepay.webhook_targets import TargetPolicy
from smilepay.webhooks import generate_webhook_secret, webhook_headers

CLAIM_LEASE_S = 60
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class DeliveryJob:
    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    body: bytes
    msg_id: str


def create_endpoint(
    tx: MoneyTx, scope: Scope, url: str, enabled_events: list[str], now_ms: int,
    policy: TargetPolicy | None = None,
) -> WebhookEndpoint:
    """A new endpoint; its URL must pass ``policy`` (public addresses only; the caller
    resolves the name with ``TargetPolicy.check_url`` before the transaction)."""
    if len(url) > 2000:
        raise InvalidInput(f"expected a URL of at most 2000 characters, got {len(url)}",
                           param="url")
    (policy or TargetPolicy()).check_form(url, scope.livemode)
    endpoint = WebhookEndpoint(
        id=new_id("we", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode, url=url,
        secret=generate_webhook_secret(), enabled_events=",".join(enabled_events or ["*"]),
        disabled=False, created_at_ms=now_ms,
    )
    tx.insert(endpoint)
    return endpoint


def _claim(tx: MoneyTx, now_ms: int, limit: int) -> list[DeliveryJob]:
    """Due deliveries, leased for ``CLAIM_LEASE_S`` so a parallel worker skips them."""
    jobs = []
    for delivery in tx.due_deliveries(now_ms, limit):
        event = tx.get(Event, delivery.event_id)
        endpoint = tx.get(WebhookEndpoint, delivery.endpoint_id)
        if event is None or endpoint is None:
            continue
        tx.update(replace(delivery, next_attempt_at_ms=now_ms + CLAIM_LEASE_S * 1000))
        body = json.dumps(event_payload(event), separators=(",", ":")).encode()
        jobs.append(DeliveryJob(delivery, endpoint, body, event.id))
    return jobs


def _settle(tx: MoneyTx, job: DeliveryJob, now_ms: int, status_code: int | None,
            error: str | None, duration_ms: int) -> None:
    tx.record_webhook_attempt(job.delivery.id, now_ms, status_code, error, duration_ms)
    attempts = job.delivery.attempts + 1
    ok = status_code is not None and 200 <= status_code < 300
    delay_s = None if ok else next_attempt_delay_s(attempts)
    status = (DeliveryStatus.SUCCEEDED if ok
              else DeliveryStatus.FAILED if delay_s is None else DeliveryStatus.PENDING)
    tx.update(replace(
        job.delivery, status=status, attempts=attempts, last_status_code=status_code,
        next_attempt_at_ms=now_ms + (delay_s or 0) * 1000,
    ))


def deliver_due(store: MoneyStore, sender: WebhookSender, clock: Clock, limit: int = 50) -> int:
    """Send what is due now; returns how many attempts were made."""
    jobs = store.run(lambda tx: _claim(tx, clock.now_ms(), limit))
    for job in jobs:
        timestamp_s = clock.now_ms() // 1000
        headers = webhook_headers(job.endpoint.secret, job.msg_id, timestamp_s, job.body)
        outcome = sender.post(job.endpoint.url, headers, job.body, TIMEOUT_S,
                              livemode=job.endpoint.livemode)
        settle = partial(_settle, job=job, now_ms=clock.now_ms(), status_code=outcome.status_code,
                         error=outcome.error, duration_ms=outcome.duration_ms)
        store.run(settle)
    return len(jobs)
