"""Face boarding rules: departures, tickets consumed once, and the gate's two rates.

The gate identifies among one departure's passengers only (customers holding a ticket and a
boarding consent). A ticket is consumed once, by face or by its QR code. Capture rate (a usable
face reached the matcher) and match rate (of those captured, how many matched their ticket)
are reported separately: a gate that captures few faces can still report a high match rate.

A departure may have a fare (a taxi ride, a shuttle): it is charged to the passenger's wallet
when the ticket is consumed, in the same transaction, once per ticket. What authorises it is the
passenger's boarding consent plus the ticket, not a confirmation on the phone. A wallet that
cannot pay keeps the gate shut and the ticket valid; ``fare_refusal`` says what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from smilepay.domain.money import MAX_AMOUNT_MINOR, format_money, parse_currency
from smilepay.errors import Conflict, InvalidInput, SmilePayError


class TicketAlreadyUsed(Conflict):
    code = "ticket_already_used"


class BoardingClosed(SmilePayError):
    code = "boarding_closed"


class BoardMethod(StrEnum):
    FACE = "face"
    QR = "qr"
    STAFF = "staff"  # by hand, the fare (if any) paid another way (cash to the driver)


class TicketStatus(StrEnum):
    VALID = "valid"
    CONSUMED = "consumed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Departure:
    departure_id: str
    kind: str  # "train" | "flight" | "shuttle" | "event" | "taxi"
    opens_at: datetime
    closes_at: datetime
    fare_minor: int = 0  # charged to the wallet on boarding when > 0
    fare_currency: str | None = None  # ISO 4217; required when fare_minor > 0

    def __post_init__(self) -> None:
        if self.closes_at <= self.opens_at:
            raise InvalidInput(f"expected boarding to close after it opens, got "
                               f"{self.opens_at} to {self.closes_at}")
        if isinstance(self.fare_minor, bool) or not isinstance(self.fare_minor, int) \
                or not 0 <= self.fare_minor <= MAX_AMOUNT_MINOR:
            raise InvalidInput(f"expected a fare of 0..{MAX_AMOUNT_MINOR} minor units, got "
                               f"{self.fare_minor!r}", param="fare_minor")
        if self.fare_currency is not None:
            try:
                object.__setattr__(self, "fare_currency", parse_currency(self.fare_currency))
            except InvalidInput as exc:
                raise InvalidInput(str(exc), param="fare_currency") from None
        elif self.fare_minor > 0:
            raise InvalidInput(f"expected a fare_currency for a fare of {self.fare_minor} "
                               "minor units, got none", param="fare_currency")


@dataclass(frozen=True)
class Fare:
    amount_minor: int
    currency: str

    @property
    def text(self) -> str:
        return format_money(self.amount_minor, self.currency)


def fare_due(departure: Departure) -> Fare | None:
    """What boarding ``departure`` charges the wallet; None for a free departure."""
    if departure.fare_minor <= 0 or departure.fare_currency is None:
        return None
    return Fare(departure.fare_minor, departure.fare_currency)


# Boarding consent texts that tell the passenger fares are charged to the wallet (the first,
# "2026-12-boarding-v1", did not): only those authorise a fare.
FARE_CONSENT_VERSIONS = frozenset({"2026-12-boarding-v2"})


def consent_covers_fares(version: str) -> bool:
    return version in FARE_CONSENT_VERSIONS


def fare_key(ticket_id: str) -> str:
    """The idempotency key of a ticket's fare: one charge per ticket, whatever retries."""
    return f"boarding_fare:{ticket_id}"


def fare_description(departure: Departure, ticket_id: str, consent_id: str) -> str:
    """The payment's description: what was paid and what authorised it (the ticket and the
    passenger's boarding consent; no confirmation on the phone)."""
    return (f"{departure.kind.capitalize()} fare, ticket {ticket_id}: authorised by the "
            f"ticket and boarding consent {consent_id}")


def other_way(kind: str) -> str:
    """How a passenger pays when the wallet cannot: the driver in a taxi, staff elsewhere."""
    return "pay the driver" if kind == "taxi" else "pay at the desk or ask the staff"


def fare_refusal(departure: Departure, reason: str) -> str:
    """What the gate tells a passenger whose wallet cannot pay the fare (``reason``: the money
    core's decline code, ``no_boarding_consent`` or ``consent_without_fares``). Said on a
    screen others may see: no balance, no limit amounts."""
    fare = fare_due(departure)
    amount = fare.text if fare is not None else "the"
    other = other_way(departure.kind)
    if reason == "insufficient_funds":
        return (f"Your wallet can't pay the {amount} fare: top it up in the SmilePay app and "
                f"try again, or {other}.")
    if reason in ("amount_limit_exceeded", "daily_limit_exceeded"):
        return f"The {amount} fare is above your wallet's spending limit: {other}."
    if reason == "customer_locked_out":
        return ("Wallet payments are paused for a while after too many failed tries: "
                f"{other}.")
    if reason == "no_boarding_consent":
        return (f"Your wallet can pay the {amount} fare only once you agree to face boarding "
                f"in the SmilePay app: do that and try again, or {other}.")
    if reason == "consent_without_fares":
        return (f"Your boarding consent does not cover fares yet: accept the new boarding terms "
                f"in the SmilePay app and try again, or {other}.")
    return f"Your wallet can't pay the {amount} fare: {other}."


def check_open(departure: Departure, now: datetime) -> None:
    if not departure.opens_at <= now < departure.closes_at:
        raise BoardingClosed(f"expected boarding between {departure.opens_at.isoformat()} and "
                             f"{departure.closes_at.isoformat()}, got {now.isoformat()}")


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    departure_id: str
    customer_id: str
    status: TicketStatus = TicketStatus.VALID
    consumed_at: datetime | None = None
    method: BoardMethod | None = None
    fare_payment_id: str | None = None  # the payment that charged its fare, if one was due


def consume(ticket: Ticket, now: datetime, method: BoardMethod,
            fare_payment_id: str | None = None) -> Ticket:
    """The ticket used now (with the payment of its fare, when one was due); a consumed or
    cancelled ticket is refused."""
    if ticket.status is not TicketStatus.VALID:
        raise TicketAlreadyUsed(f"expected a valid ticket, got a {ticket.status.value} one",
                                ticket_id=ticket.ticket_id)
    return replace(ticket, status=TicketStatus.CONSUMED, consumed_at=now, method=method,
                   fare_payment_id=fare_payment_id)


@dataclass(frozen=True)
class GateAttempt:
    """One traveller at the gate: was a usable face captured, did it match a ticket holder."""

    captured: bool
    matched: bool
    method: BoardMethod | None  # how they finally boarded (None: turned away)


@dataclass(frozen=True)
class GateRates:
    travellers: int
    captured: int
    matched: int
    boarded_by_face: int
    boarded_by_qr: int
    boarded_by_staff: int = 0

    @property
    def capture_rate(self) -> float:
        return self.captured / self.travellers if self.travellers else 0.0

    @property
    def match_rate(self) -> float:
        """Of the captured faces, how many matched (GAO-20-568's 98% is this, not capture)."""
        return self.matched / self.captured if self.captured else 0.0


def gate_rates(attempts: Sequence[GateAttempt]) -> GateRates:
    if any(a.matched and not a.captured for a in attempts):
        raise InvalidInput("expected a match only for a captured face, got a match without one")
    return GateRates(
        travellers=len(attempts), captured=sum(a.captured for a in attempts),
        matched=sum(a.matched for a in attempts),
        boarded_by_face=sum(a.method is BoardMethod.FACE for a in attempts),
        boarded_by_qr=sum(a.method is BoardMethod.QR for a in attempts),
        boarded_by_staff=sum(a.method is BoardMethod.STAFF for a in attempts))
