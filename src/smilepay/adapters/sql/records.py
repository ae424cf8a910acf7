"""Mapping between the domain's frozen dataclasses and table rows (column name = field name)."""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any, TypeVar

from sqlalchemy import Row, Table

from smilepay.adapters.sql import schema
from smilepay.domain.customers import Customer
from smilepay.domain.events import Event, Notification, WebhookDelivery, WebhookEndpoint
from smilepay.domain.ledger import Account, Hold, Transfer
from smilepay.domain.payments import PaymentIntent, Refund
from smilepay.domain.tenants import ApiKey, Tenant, Terminal

R = TypeVar("R")

TABLES: dict[type[Any], Table] = {
    Tenant: schema.tenants,
    ApiKey: schema.api_keys,
    Terminal: schema.terminals,
    Customer: schema.customers,
    Account: schema.accounts,
    Transfer: schema.transfers,
    Hold: schema.holds,
    PaymentIntent: schema.payment_intents,
    Refund: schema.refunds,
    Event: schema.events,
    WebhookEndpoint: schema.webhook_endpoints,
    WebhookDelivery: schema.webhook_deliveries,
    Notification: schema.notifications,
}


_ENUM_FIELDS: dict[type[Any], dict[str, type[enum.Enum]]] = {}


def _enum_fields(cls: type[Any]) -> dict[str, type[enum.Enum]]:
    if cls not in _ENUM_FIELDS:
        _ENUM_FIELDS[cls] = {
            name: hint
            for name, hint in typing.get_type_hints(cls).items()
            if isinstance(hint, type) and issubclass(hint, enum.Enum)
        }
    return _ENUM_FIELDS[cls]


def to_row(record: object) -> dict[str, Any]:
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}  # type: ignore[arg-type]
    for name in _enum_fields(type(record)):
        values[name] = values[name].value
    return values


def from_row(cls: type[R], row: Row[Any] | dict[str, Any]) -> R:
    values = dict(row) if isinstance(row, dict) else dict(row._mapping)
    for name, enum_type in _enum_fields(cls).items():
        values[name] = enum_type(values[name])
    for name in ("livemode", "allow_negative", "disabled"):
        if name in values:
            values[name] = bool(values[name])
    if "phone_ciphertext" in values:
        values["phone_ciphertext"] = bytes(values["phone_ciphertext"])
    return cls(**values)
