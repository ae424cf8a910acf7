"""Ports for telling people things: customers (receipts) and merchants' servers (webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from smilepay.domain.events import Notification


@dataclass(frozen=True)
class Contact:
    """Where a customer can be reached; the phone only ever masked (``+*******1234``)."""

    phone_masked: str
    email: str | None


class Notifier(Protocol):
    """Delivers a customer notification (already stored in the outbox the wallet page reads)."""

    def send(self, notification: Notification, contact: Contact) -> None: ...


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookSender(Protocol):
    def post(
        self, url: str, headers: dict[str, str], body: bytes, timeout_s: float,
        *, livemode: bool = True,
    ) -> WebhookResponse:
        """``livemode``: the endpoint's mode (test-mode endpoints may be allowed loopback
        targets, see ``webhook_targets``)."""
        ...
