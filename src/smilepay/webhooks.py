"""Webhook signatures (the Standard Webhooks scheme) and the receiver's verify helper.

Headers: ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, several space-separated during secret
rotation). Secrets look like ``whsec_<base64 of 24+ random bytes>``.

A receiver verifies with::

    from smilepay.webhooks import verify_webhook
    event = verify_webhook(secret, request.headers, raw_body)   # raises on a bad one
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from smilepay.domain.money_errors import WebhookVerificationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
TOLERANCE_S = 5 * 60


def generate_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise WebhookVerificationFailed(
            "expected a whsec_<base64> secret, got another form"
        ) from exc


def sign_webhook(secret: str, msg_id: str, timestamp_s: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp_s}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, msg_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": sign_webhook(secret, msg_id, timestamp_s, body),
        "content-type": "application/json",
    }


def verify_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, *, now_s: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> dict[str, Any]:
    """The parsed event if the signature matches and the timestamp is fresh; else raise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp_s = int(lowered["webhook-timestamp"])
        signatures = lowered["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationFailed(
            "expected webhook-id, webhook-timestamp and webhook-signature headers"
        ) from exc
    now = time.time() if now_s is None else now_s
    if abs(now - timestamp_s) > tolerance_s:
        raise WebhookVerificationFailed(
            f"expected a timestamp within {tolerance_s} s, got {int(now - timestamp_s)} s off"
        )
    expected = sign_webhook(secret, msg_id, timestamp_s, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures if s.startswith("v1,")):
        raise WebhookVerificationFailed("expected a matching v1 signature, got none")
    parsed: dict[str, Any] = json.loads(body)
    return parsed
