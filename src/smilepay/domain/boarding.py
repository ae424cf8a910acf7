"""Face boarding rules: departures, tickets consumed once, and the gate's two rates.

The gate identifies among one departure's passengers only (customers holding a ticket and a
boarding consent). A ticket is consumed once, by face or by its QR code. Capture rate (a usable
face reached the matcher) and match rate (of those captured, how many matched their ticket)
are reported separately: a gate that captures few faces can still report a high match rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from smilepay.errors import Conflict, InvalidInput, SmilePayError


class TicketAlreadyUsed(Conflict):
    code = "ticket_already_used"


class BoardingClosed(SmilePayError):
    code = "boarding_closed"


class BoardMethod(StrEnum):
    FACE = "face"
    QR = "qr"


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

    def __post_init__(self) -> None:
        if self.closes_at <= self.opens_at:
            raise InvalidInput(f"expected boarding to close after it opens, got "
                               f"{self.opens_at} to {self.closes_at}")
        if self.fare_minor < 0:
            raise InvalidInput(f"expected a fare >= 0, got {self.fare_minor}")


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


def consume(ticket: Ticket, now: datetime, method: BoardMethod) -> Ticket:
    """The ticket used now; a consumed or cancelled ticket is refused."""
    if ticket.status is not TicketStatus.VALID:
        raise TicketAlreadyUsed(f"expected a valid ticket, got a {ticket.status.value} one",
                                ticket_id=ticket.ticket_id)
    return replace(ticket, status=TicketStatus.CONSUMED, consumed_at=now, method=method)


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
        boarded_by_qr=sum(a.method is BoardMethod.QR for a in attempts))
