"""Trips as rows and back, and store alerts: shared by the entry, exit and after-trip
services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from smilepay.domain.ids import new_id
from smilepay.domain.store.trips import EntryMethod, Trip, TripStatus
from smilepay.domain.tenants import Scope
from smilepay.errors import NotFound
from smilepay.ports.store import Row, StoreTx


def trip_from_row(row: Row) -> Trip:
    values: dict[str, Any] = dict(row)
    values["status"] = TripStatus(values["status"])
    values["entry_method"] = EntryMethod(values["entry_method"])
    values["livemode"] = bool(values["livemode"])
    return Trip(**values)


def as_row(trip: Trip) -> Row:
    row = asdict(trip)
    row["status"] = trip.status.value
    row["entry_method"] = trip.entry_method.value
    return row


def trip_row(scope: Scope, store_id: str, customer_id: str, method: EntryMethod,
             payment_intent_id: str, hold_minor: int, now_ms: int) -> Row:
    return as_row(Trip(
        id=new_id("trip", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        store_id=store_id, customer_id=customer_id, status=TripStatus.AUTHORISED,
        entry_method=method, people=1, payment_intent_id=payment_intent_id,
        extra_payment_intent_id=None, hold_minor=hold_minor, total_minor=0, charged_minor=0,
        debt_minor=0, entered_at_ms=None, exited_at_ms=None, created_at_ms=now_ms,
        updated_at_ms=now_ms,
    ))


def get_trip(tx: StoreTx, scope: Scope, trip_id: str, *, lock: bool = False) -> Trip:
    row = tx.one("trips", for_update=lock, id=trip_id, tenant_id=scope.tenant_id,
                 livemode=scope.livemode)
    if row is None:
        raise NotFound("expected a trip id, got an unknown one", param="trip")
    return trip_from_row(row)


def save_trip(tx: StoreTx, trip: Trip) -> Row:
    row = as_row(trip)
    tx.update("trips", {"id": trip.id}, {k: v for k, v in row.items() if k != "id"})
    return row


def alert(tx: StoreTx, scope: Scope, store_id: str, kind: str, subject: str, message: str,
          now_ms: int) -> None:
    tx.insert("alerts", {"id": new_id("sal", now_ms), "tenant_id": scope.tenant_id,
                         "livemode": scope.livemode, "store_id": store_id, "kind": kind,
                         "subject": subject[:64], "message": message[:300], "at_ms": now_ms,
                         "resolved_at_ms": None})
