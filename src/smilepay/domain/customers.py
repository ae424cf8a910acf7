"""Customers: a verified phone number (kept encrypted elsewhere), limits, a wallet per currency."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smilepay.errors import InvalidInput

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Customer:
    id: str
    tenant_id: str
    livemode: bool
    phone_ciphertext: bytes
    phone_hmac: str
    phone_last4_hmac: str
    name: str
    email: str | None
    limit_per_payment_minor: int
    limit_per_day_minor: int
    created_at_ms: int


def normalize_phone(raw: str) -> str:
    """E.164 (``+4915112345678``): spaces, dashes, dots and brackets are dropped."""
    compact = re.sub(r"[\s\-().]", "", raw)
    if not _E164.match(compact):
        raise InvalidInput(
            f"expected a phone number in E.164 form like +4915112345678, got {len(raw)} chars",
            param="phone",
        )
    return compact


def last_four(phone_e164: str) -> str:
    return phone_e164[-4:]


def mask_phone(phone_e164: str) -> str:
    """What logs and pages may show: ``+*********5678``."""
    return "+" + "*" * (len(phone_e164) - 5) + phone_e164[-4:]


def check_last_four(raw: str) -> str:
    if not re.fullmatch(r"[0-9]{4}", raw):
        raise InvalidInput("expected the last four digits of a phone number", param="last4")
    return raw
