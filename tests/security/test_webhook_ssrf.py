"""Issue 11, point 7: webhook endpoints may not point inside. Loopback, private, link-local
(cloud metadata), multicast and reserved targets are refused when the endpoint is made and again
at every delivery on the addresses the name has then (DNS rebinding); loopback only for test-mode
endpoints and only when SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK allows it; the target's answer is not
shown back for refused targets (no port scanner)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_support import assert_error
from smilepay.adapters.notify.httpx_webhooks import HttpxWebhookSender
from smilepay.api.app import create_app
from smilepay.bootstrap import Container, build_container
from smilepay.config import Settings
from smilepay.services.demo import create_demo_merchant
from smilepay.services.webhook_delivery import deliver_due
from smilepay.webhook_targets import TargetPolicy, WebhookTargetRefused

INSIDE = ["http://127.0.0.1:8000/hooks", "http://169.254.169.254/latest/meta-data/",
          "http://10.0.0.5/hooks", "http://192.168.1.20/hooks", "http://172.16.0.1/",
          "http://[::1]/hooks", "http://[fe80::1]/hooks", "http://[::ffff:127.0.0.1]/",
          "http://0.0.0.0/", "http://224.0.0.1/", "http://100.64.0.1/", "http://localhost/",
          "http://metadata.google.internal/", "http://intranet/", "http://0x7f000001/",
          "http://2130706433/", "http://user:pw@example.com/"]


class Receiver:
    """A webhook receiver on this machine that counts what reaches it."""

    def __init__(self) -> None:
        received: list[bytes] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def app_on(tmp: Path, **settings: Any) -> tuple[Container, TestClient, dict[str, str]]:
    container = build_container(f"sqlite:///{tmp / 'hooks.db'}", settings=Settings(**settings))
    keys = create_demo_merchant(container)
    return container, TestClient(create_app(container)), {
        "Authorization": f"Bearer {keys.secret_key}"}


def test_endpoints_pointing_inside_are_refused(tmp_path: Path) -> None:
    container, client, merchant = app_on(tmp_path)
    for url in INSIDE:
        answer = client.post("/v1/webhook_endpoints", json={"url": url}, headers=merchant)
        error = assert_error(answer, 400)
        assert error["code"] in ("webhook_target_refused", "invalid_input"), (url, error)
        assert error["param"] == "url"
        assert "169.254" not in error["message"] and "127.0" not in error["message"]
    listed = client.get("/v1/webhook_endpoints", headers=merchant).json()["data"]
    assert listed == []
    public = client.post("/v1/webhook_endpoints", json={"url": "https://93.184.215.14/hooks"},
                         headers=merchant)
    assert public.status_code == 200, public.text
    container.close()


def test_loopback_needs_the_setting_and_test_mode(tmp_path: Path) -> None:
    container, client, merchant = app_on(tmp_path, webhooks_allow_loopback=True)
    ok = client.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hooks"},
                     headers=merchant)
    assert ok.status_code == 200, ok.text
    metadata = client.post("/v1/webhook_endpoints",
                           json={"url": "http://169.254.169.254/latest/"}, headers=merchant)
    assert_error(metadata, 400, "webhook_target_refused")  # the setting is loopback only
    container.close()
    allow = TargetPolicy(allow_loopback=True)
    with pytest.raises(WebhookTargetRefused):
        allow.check_url("https://127.0.0.1/hooks", livemode=True)  # never for live endpoints
    with pytest.raises(WebhookTargetRefused, match="https"):
        allow.check_url("http://93.184.215.14/hooks", livemode=True)  # live is https only


class Rebinding:
    """A name that resolves to a public address when checked, then to loopback."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.asked = 0

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked += 1
        return [self.answers[min(self.asked - 1, len(self.answers) - 1)]]


def test_every_delivery_checks_the_address_the_name_has_then(
    tmp_path: Path, receiver: Receiver
) -> None:
    """DNS rebinding: public at creation, 127.0.0.1 at delivery. Nothing reaches the
    receiver on this machine, the attempt is recorded as refused, and the event shows no
    status code from it."""
    rebinding = Rebinding(["93.184.215.14", "127.0.0.1"])
    policy = TargetPolicy(resolver=rebinding)
    container, client, merchant = app_on(tmp_path)
    container.webhook_policy = policy
    made = client.post("/v1/webhook_endpoints", json={
        "url": f"http://hooks.shop.example:{receiver.port}/in"}, headers=merchant)
    assert made.status_code == 200, made.text
    client.post("/v1/customers", json={"phone": "+4915100000011"}, headers=merchant)
    sender = HttpxWebhookSender(policy=policy)
    assert deliver_due(container.store, sender, container.ctx.clock) >= 1
    sender.close()
    assert receiver.received == []
    assert rebinding.asked >= 2  # checked at creation and again at delivery
    event = client.get("/v1/events?type=customer.created", headers=merchant).json()["data"][0]
    detail = client.get(f"/v1/events/{event['id']}", headers=merchant).json()
    assert [d["last_status_code"] for d in detail["deliveries"]] == [None]
    container.close()


def test_a_test_mode_loopback_receiver_gets_its_webhooks_when_allowed(
    tmp_path: Path, receiver: Receiver
) -> None:
    container, client, merchant = app_on(tmp_path, webhooks_allow_loopback=True)
    made = client.post("/v1/webhook_endpoints", json={
        "url": f"http://localhost:{receiver.port}/in"}, headers=merchant)
    assert made.status_code == 200, made.text
    client.post("/v1/customers", json={"phone": "+4915100000012"}, headers=merchant)
    assert deliver_due(container.store, container.webhook_sender, container.ctx.clock) >= 1
    assert len(receiver.received) == 1 and b"customer.created" in receiver.received[0]
    container.close()


def test_the_sender_refuses_inside_targets_without_sending(receiver: Receiver) -> None:
    sender = HttpxWebhookSender(policy=TargetPolicy())
    outcome = sender.post(f"http://127.0.0.1:{receiver.port}/in", {}, b"{}", 2.0,
                          livemode=False)
    assert outcome.status_code is None and outcome.error is not None
    assert outcome.error.startswith("target_refused")
    assert receiver.received == []
    sender.close()
