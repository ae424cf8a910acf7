"""Request bodies, validated with limits at the edge (amounts in minor units)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from smilepay.api.validation import ID_PATTERN, ID_RULE
from smilepay.domain.money import MAX_AMOUNT_MINOR
from smilepay.errors import InvalidInput

# Amounts are JSON integers only (strict): "100", true and 1.0 are refused, never coerced.
AMOUNT_LIMITS: dict[str, Any] = {"gt": 0, "le": MAX_AMOUNT_MINOR, "strict": True}
Amount = Field(**AMOUNT_LIMITS, description="Integer minor units (cents); a JSON integer.")


def amount(*, optional: bool = False) -> Any:
    """An amount field: a JSON integer in 1..MAX_AMOUNT_MINOR (null allowed if optional)."""
    return Field(default=None, **AMOUNT_LIMITS) if optional else Field(**AMOUNT_LIMITS)
CURRENCY_LIMITS: dict[str, Any] = {"min_length": 3, "max_length": 3, "pattern": "^[A-Za-z]{3}$"}
Currency = Field(**CURRENCY_LIMITS, examples=["EUR"])
# An object id: ours are ``prefix_`` + base32; nothing else reaches SQL.
ID_LIMITS: dict[str, Any] = {"pattern": ID_PATTERN}  # 3..40 letters, digits, underscores
_ID = re.compile("[A-Za-z0-9_]{3,40}")
# A list filter on an event type (``payment_intent.succeeded``): checked before any SQL.
EVENT_TYPE_LIMITS: dict[str, Any] = {"min_length": 1, "max_length": 64,
                                     "pattern": "^[a-z_]+(\\.[a-z_]+)*$"}


def object_id(*, optional: bool = True) -> Any:
    """An object id field: 3..40 letters, digits or underscores."""
    return Field(default=None, **ID_LIMITS) if optional else Field(**ID_LIMITS)


def check_path_ids(request: Request) -> None:
    """Every path parameter under ``/v1`` is an object id: checked once here, for all of
    those routes (``create_app``)."""
    for name, value in request.path_params.items():
        if not _ID.fullmatch(value):
            raise InvalidInput(f"expected {ID_RULE} in the path, got {len(value)} characters "
                               "that are not one", param=name)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerLimitsIn(Body):
    per_payment_minor: int = amount()
    per_day_minor: int = amount()


class CustomerCreate(Body):
    phone: str = Field(min_length=7, max_length=32, description="Verified number, E.164.")
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    limits: CustomerLimitsIn | None = None


class TopUpCreate(Body):
    amount_minor: int = Amount
    currency: str = Currency


class TerminalCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    store_gate: str | None = Field(default=None, max_length=200)


class ApiKeyCreate(Body):
    kind: Literal["secret", "terminal"]
    terminal: str | None = object_id()


class PaymentIntentCreate(Body):
    amount_minor: int = Amount
    currency: str = Currency
    capture_method: Literal["automatic", "manual"] = "automatic"
    customer: str | None = object_id()
    terminal: str | None = object_id()
    description: str = Field(default="", max_length=500)
    confirm: bool = Field(default=False, strict=True,
                          description="Confirm at once (needs a customer).")


class PaymentIntentConfirm(Body):
    customer: str | None = object_id()


class PaymentIntentCapture(Body):
    amount_to_capture_minor: int | None = amount(optional=True)


class RefundCreate(Body):
    payment_intent: str = object_id(optional=False)
    amount_minor: int | None = amount(optional=True)
    reason: str = Field(default="", max_length=200)


class PayoutCreate(Body):
    amount_minor: int = Amount
    currency: str = Currency


class WebhookEndpointCreate(Body):
    url: str = Field(min_length=8, max_length=2000)
    enabled_events: list[Annotated[str, Field(min_length=1, max_length=64,
                                              pattern="^(\\*|[a-z_]+(\\.[a-z_*]+)*)$")]] = Field(
        default_factory=lambda: ["*"], max_length=50)
