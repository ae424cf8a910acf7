"""Webhook delivery against a real local HTTP receiver, on both engines: signed with the
Standard Webhooks scheme, verified by the package's helper, retried with backoff after a
failure, every attempt recorded; customer notifications leave the outbox through a notifier."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from smilepay.adapters.notify.httpx_webhooks import HttpxWebhookSender
from smilepay.adapters.notify.log_notifier import LogNotifier
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.events import DeliveryStatus, Event, WebhookEndpoint
from smilepay.domain.money_errors import WebhookVerificationFailed
from smilepay.domain.risk import CustomerLimits
from smilepay.ports.money import MoneyTx
from smilepay.services import payments
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.notifications import dispatch_notifications
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant
from smilepay.services.webhook_delivery import create_endpoint, deliver_due
from smilepay.webhook_targets import TargetPolicy
from smilepay.webhooks import verify_webhook

# test-mode endpoints on this machine (SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK): the receiver here
LOCAL = TargetPolicy(allow_loopback=True)

pytestmark = pytest.mark.integration


class Receiver:
    """A merchant's server: answers with the next queued status, verifying every request."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.secret = ""
        self.now_s = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                try:
                    event = verify_webhook(receiver.secret, dict(self.headers), body,
                                           now_s=receiver.now_s)
                    receiver.received.append({"event": event, "headers": dict(self.headers),
                                              "body": body})
                except WebhookVerificationFailed:
                    status = 400
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def test_a_payment_webhook_is_signed_retried_and_recorded(
    store: SqlMoneyStore, receiver: Receiver
) -> None:
    clock = FixedClock()
    ctx = MoneyContext(clock=clock, phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    scope = seed_merchant(store, ctx, "Hooked").scope
    endpoint = store.run(lambda tx: create_endpoint(
        tx, scope, receiver.url, ["payment_intent.succeeded"], clock.now_ms(), LOCAL))
    receiver.secret = endpoint.secret
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=500,
                                 limits=CustomerLimits(10**6, 10**6))

    def pay(tx: MoneyTx) -> str:
        intent = payments.create_payment(tx, ctx, scope, amount_minor=120, currency="EUR",
                                         customer_id=customer)
        return payments.confirm_payment(tx, ctx, scope, intent.id).id

    pid = store.run(pay)
    sender = HttpxWebhookSender(policy=LOCAL)
    receiver.statuses = [503]
    receiver.now_s = clock.now_ms() / 1000
    assert deliver_due(store, sender, clock) == 1  # refused by the receiver: retry later
    assert deliver_due(store, sender, clock) == 0  # backoff: nothing due yet
    clock.advance_s(5)
    receiver.now_s = clock.now_ms() / 1000
    assert deliver_due(store, sender, clock) == 1
    sender.close()

    assert len(receiver.received) == 2
    event = receiver.received[-1]["event"]
    assert event["type"] == "payment_intent.succeeded" and event["data"]["object"]["id"] == pid
    assert receiver.received[0]["headers"]["webhook-id"] == event["id"]  # same id: dedupe

    def attempts(tx: MoneyTx) -> tuple[list[Any], list[dict[str, Any]]]:
        (delivery,) = tx.deliveries_for_event(event["id"])
        return [delivery.status, delivery.attempts], tx.webhook_attempts(delivery.id)

    state, recorded = store.run(attempts, write=False)
    assert state == [DeliveryStatus.SUCCEEDED, 2]
    assert [a["status_code"] for a in recorded] == [503, 200]

    # only the subscribed type was queued (topups and customer events were not)
    events = store.run(lambda tx: tx.list_page(Event, scope, limit=50).items, write=False)
    assert {e.type for e in events} >= {"customer.created", "topup.succeeded"}
    endpoints = store.run(lambda tx: tx.endpoints(scope), write=False)
    assert [e.id for e in endpoints] == [endpoint.id]
    assert isinstance(endpoints[0], WebhookEndpoint)

    notifier = LogNotifier()
    assert dispatch_notifications(store, notifier, ctx.phones, clock) >= 1
    assert any("receipt" in line for line in notifier.sent)
    assert all("+4915100000000" not in line and "*" in line for line in notifier.sent)


def test_an_unreachable_endpoint_is_retried_then_given_up(store: SqlMoneyStore) -> None:
    clock = FixedClock()
    ctx = MoneyContext(clock=clock, phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    scope = seed_merchant(store, ctx, "Offline").scope
    store.run(lambda tx: create_endpoint(tx, scope, "http://127.0.0.1:9/nothing", ["*"],
                                         clock.now_ms(), LOCAL))
    seed_customers(store, ctx, scope, 1, topup_minor=0, phone_base=4915300000000)
    sender = HttpxWebhookSender(policy=LOCAL)
    tries = 0
    for _ in range(12):
        tries += deliver_due(store, sender, clock)
        clock.advance_s(6 * 3600)
    sender.close()
    assert tries == 8  # the first attempt and seven retries

    def state(tx: MoneyTx) -> list[DeliveryStatus]:
        event = tx.list_page(Event, scope, limit=1).items[0]
        return [d.status for d in tx.deliveries_for_event(event.id)]

    assert store.run(state, write=False) == [DeliveryStatus.FAILED]
