"""Standard Webhooks signatures: a genuine message verifies; tampering or staleness fails."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from smilepay.domain.money_errors import WebhookVerificationFailed
from smilepay.webhooks import generate_webhook_secret, verify_webhook, webhook_headers

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount_minor":5}}}'
NOW = 1_800_000_000


def test_a_genuine_webhook_verifies_and_matches_the_published_scheme() -> None:
    secret = generate_webhook_secret()
    headers = webhook_headers(secret, "evt_1", NOW, BODY)
    assert verify_webhook(secret, headers, BODY, now_s=NOW + 299)["id"] == "evt_1"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"evt_1.{NOW}.".encode() + BODY, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_rotation_accepts_any_listed_signature() -> None:
    old, new = generate_webhook_secret(), generate_webhook_secret()
    headers = webhook_headers(new, "evt_1", NOW, BODY)
    headers["webhook-signature"] = (
        webhook_headers(old, "evt_1", NOW, BODY)["webhook-signature"] + " "
        + headers["webhook-signature"]
    )
    verify_webhook(new, headers, BODY, now_s=NOW)


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "stale", "future", "secret",
                                    "missing"])
def test_tampered_or_stale_webhooks_are_rejected(tamper: str) -> None:
    secret = generate_webhook_secret()
    headers = webhook_headers(secret, "evt_1", NOW, BODY)
    body, now = BODY, NOW
    if tamper == "body":
        body = BODY.replace(b"5", b"6")
    elif tamper == "id":
        headers["webhook-id"] = "evt_2"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(NOW + 1)
    elif tamper == "stale":
        now = NOW + 301
    elif tamper == "future":
        now = NOW - 301
    elif tamper == "secret":
        secret = generate_webhook_secret()
    else:
        del headers["webhook-signature"]
    with pytest.raises(WebhookVerificationFailed):
        verify_webhook(secret, headers, body, now_s=now)
