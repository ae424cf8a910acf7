"""A shopper's trip through the store and its state machine.

    authorised --gate crossed--> in_store --tunnel/exit gate--> exiting
    exiting --paid--> charged        exiting --wallet could not pay--> debt (door shut, open)
    exiting --lines unresolved--> review (what is sure is charged; the rest waits for staff)
    debt --paid later--> charged     review --operator resolved--> charged
    authorised --nobody entered (timeout) or cancelled--> canceled

A trip has one host (whose wallet pays and holds) and any number of guests the host admits
(``people`` counts everyone the gate may let through for it). Closed: charged, canceled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from smilepay.domain.store.errors import InvalidTripState
from smilepay.errors import InvalidInput

MAX_GUESTS = 10


class TripStatus(StrEnum):
    AUTHORISED = "authorised"
    IN_STORE = "in_store"
    EXITING = "exiting"
    CHARGED = "charged"
    DEBT = "debt"
    REVIEW = "review"
    CANCELED = "canceled"


T = TripStatus
TRANSITIONS: dict[TripStatus, frozenset[TripStatus]] = {
    T.AUTHORISED: frozenset({T.IN_STORE, T.CANCELED}),
    T.IN_STORE: frozenset({T.EXITING}),
    T.EXITING: frozenset({T.CHARGED, T.DEBT, T.REVIEW}),
    T.DEBT: frozenset({T.CHARGED}),
    T.REVIEW: frozenset({T.CHARGED, T.DEBT}),
    T.CHARGED: frozenset(),
    T.CANCELED: frozenset(),
}
OPEN = frozenset({T.AUTHORISED, T.IN_STORE, T.EXITING, T.DEBT, T.REVIEW})
IN_PROGRESS = frozenset({T.AUTHORISED, T.IN_STORE, T.EXITING})


class EntryMethod(StrEnum):
    QR = "qr"
    FACE = "face"
    STAFF = "staff"


@dataclass(frozen=True)
class Trip:
    id: str
    tenant_id: str
    livemode: bool
    store_id: str
    customer_id: str  # the host: pays, holds
    status: TripStatus
    entry_method: EntryMethod
    people: int  # the host plus admitted guests
    payment_intent_id: str | None  # the entry hold (a manual-capture payment)
    extra_payment_intent_id: str | None  # the incremental authorisation, when above the hold
    hold_minor: int
    total_minor: int
    charged_minor: int
    debt_minor: int
    entered_at_ms: int | None
    exited_at_ms: int | None
    created_at_ms: int
    updated_at_ms: int


def move_trip(trip: Trip, to: TripStatus, now_ms: int) -> Trip:
    if to not in TRANSITIONS[trip.status]:
        raise InvalidTripState(
            f"expected a trip that can become {to.value}, got {trip.status.value}",
            trip=trip.id, status=trip.status.value,
        )
    changed = replace(trip, status=to, updated_at_ms=now_ms)
    if to is T.IN_STORE:
        changed = replace(changed, entered_at_ms=now_ms)
    if to is T.EXITING:
        changed = replace(changed, exited_at_ms=now_ms)
    return changed


def admit_guests(trip: Trip, guests: int, now_ms: int) -> Trip:
    """The host admits ``guests`` more people onto the trip (before leaving the store)."""
    if trip.status not in (T.AUTHORISED, T.IN_STORE):
        raise InvalidTripState(f"expected a trip at the entry or in the store to admit guests, "
                               f"got {trip.status.value}", trip=trip.id)
    if guests < 1 or trip.people - 1 + guests > MAX_GUESTS:
        raise InvalidInput(f"expected 1..{MAX_GUESTS - trip.people + 1} guests, got {guests}",
                           param="guests")
    return replace(trip, people=trip.people + guests, updated_at_ms=now_ms)


@dataclass(frozen=True)
class ExitCharge:
    """How an exit total is collected from an entry hold: captured from it, and the rest by an
    incremental authorisation (placed, then captured)."""

    from_hold_minor: int
    incremental_minor: int


def split_charge(total_minor: int, hold_minor: int) -> ExitCharge:
    if total_minor < 0 or hold_minor < 0:
        raise InvalidInput(f"expected non-negative amounts, got {total_minor}, {hold_minor}")
    from_hold = min(total_minor, hold_minor)
    return ExitCharge(from_hold_minor=from_hold, incremental_minor=total_minor - from_hold)
