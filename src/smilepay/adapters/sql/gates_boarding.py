"""Boarding records: departures, tickets (consumed once, by a conditional update) and gate
attempts (for the capture and match rates).

``SqlBoarding.run`` is one boarding decision's transaction: the ticket (locked), the
passenger's boarding consent and the money core (``SqlMoneyTx`` on the same connection,
finished before the commit), so a ticket and its fare commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, exists, insert, select, update

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.gates_schema import (
    departures,
    gate_attempts,
    gate_templates,
    purpose_consents,
    tickets,
)
from smilepay.adapters.sql.identity_store import from_ms
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.adapters.sql.tx import SqlMoneyTx
from smilepay.domain.boarding import (
    BoardMethod,
    Departure,
    GateAttempt,
    Ticket,
    TicketStatus,
)
from smilepay.domain.tenants import Scope
from smilepay.ports.gates import BoardingTx

T = TypeVar("T")


def _ms(ticket: Ticket) -> int | None:
    return None if ticket.consumed_at is None else int(ticket.consumed_at.timestamp() * 1000)


def _ticket(r: Any) -> Ticket:
    return Ticket(r.id, r.departure_id, r.customer_id, TicketStatus(r.status),
                  from_ms(r.consumed_at_ms),
                  None if r.method is None else BoardMethod(r.method), r.fare_payment_id)


def _consume_stmt(scope: Scope, ticket: Ticket) -> Any:
    """Write ``ticket`` (consumed) if it is still valid: a ticket is consumed once."""
    return update(tickets).where(
        in_scope(tickets, scope) & (tickets.c.id == ticket.ticket_id)
        & (tickets.c.status == TicketStatus.VALID.value)).values(
        status=ticket.status.value, method=None if ticket.method is None
        else ticket.method.value, consumed_at_ms=_ms(ticket),
        fare_payment_id=ticket.fare_payment_id)


def _attempt_stmt(scope: Scope, attempt_id: str, departure_id: str, attempt: GateAttempt,
                  ticket_id: str | None, score: float | None, at_ms: int) -> Any:
    return insert(gate_attempts).values(
        id=attempt_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
        departure_id=departure_id, captured=attempt.captured, matched=attempt.matched,
        method=None if attempt.method is None else attempt.method.value,
        ticket_id=ticket_id, score=score, at_ms=at_ms)


def _method_stmt(scope: Scope, attempt_id: str, method: BoardMethod, ticket_id: str) -> Any:
    t = gate_attempts
    return update(t).where(
        in_scope(t, scope) & (t.c.id == attempt_id) & t.c.method.is_(None)).values(
        method=method.value, ticket_id=ticket_id)


class SqlBoardingTx:
    """``ports.gates.BoardingTx`` on one connection (see ``SqlBoarding.run``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.money = SqlMoneyTx(conn)
        self._pg = conn.dialect.name == "postgresql"

    def valid_ticket(self, scope: Scope, ticket_id: str) -> Ticket | None:
        query = select(tickets).where(
            in_scope(tickets, scope) & (tickets.c.id == ticket_id)
            & (tickets.c.status == TicketStatus.VALID.value))
        if self._pg:  # SQLite: the write transaction (BEGIN IMMEDIATE) serialises already
            query = query.with_for_update()
        r = self.conn.execute(query).first()
        return None if r is None else _ticket(r)

    def boarding_consent(self, scope: Scope, customer_id: str) -> tuple[str, str] | None:
        pc = purpose_consents
        r = self.conn.execute(select(pc.c.id, pc.c.version).where(
            in_scope(pc, scope) & (pc.c.customer_id == customer_id)
            & (pc.c.purpose == "boarding") & pc.c.revoked_at_ms.is_(None))
            .order_by(pc.c.granted_at_ms.desc(), pc.c.id.desc()).limit(1)).first()
        return None if r is None else (str(r.id), str(r.version))

    def consume(self, scope: Scope, ticket: Ticket) -> bool:
        return bool(self.conn.execute(_consume_stmt(scope, ticket)).rowcount == 1)

    def add_attempt(self, scope: Scope, attempt_id: str, departure_id: str,
                    attempt: GateAttempt, ticket_id: str | None, score: float | None,
                    at_ms: int) -> None:
        self.conn.execute(_attempt_stmt(scope, attempt_id, departure_id, attempt, ticket_id,
                                        score, at_ms))

    def set_attempt_method(self, scope: Scope, attempt_id: str, method: BoardMethod,
                           ticket_id: str) -> bool:
        return bool(self.conn.execute(
            _method_stmt(scope, attempt_id, method, ticket_id)).rowcount == 1)


class SqlBoarding:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def _write(self, statement: Any) -> Any:
        return self._runner.run(lambda c: c.execute(statement), write=True)

    def _first(self, statement: Any) -> Any:
        return self._runner.run(lambda c: c.execute(statement).first(), write=False)

    def run(self, work: Callable[[BoardingTx], T]) -> T:
        def in_tx(conn: Connection) -> T:
            tx = SqlBoardingTx(conn)
            result = work(tx)
            tx.money.finish()
            return result

        return self._runner.run(in_tx, write=True)

    def add_departure(self, scope: Scope, d: Departure, name: str) -> None:
        self._write(insert(departures).values(
            id=d.departure_id, tenant_id=scope.tenant_id, livemode=scope.livemode, kind=d.kind,
            name=name, opens_ms=int(d.opens_at.timestamp() * 1000),
            closes_ms=int(d.closes_at.timestamp() * 1000), fare_minor=d.fare_minor,
            fare_currency=d.fare_currency))

    def get_departure(self, scope: Scope, departure_id: str) -> Departure | None:
        r = self._first(select(departures).where(
            in_scope(departures, scope) & (departures.c.id == departure_id)))
        if r is None:
            return None
        return Departure(r.id, r.kind, from_ms(r.opens_ms),  # type: ignore[arg-type]
                         from_ms(r.closes_ms), int(r.fare_minor),  # type: ignore[arg-type]
                         r.fare_currency)

    def add_ticket(self, scope: Scope, ticket: Ticket, qr_hash: str) -> None:
        self._write(insert(tickets).values(
            id=ticket.ticket_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            departure_id=ticket.departure_id, customer_id=ticket.customer_id,
            status=ticket.status.value, qr_hash=qr_hash))

    def valid_tickets(self, scope: Scope, departure_id: str) -> list[Ticket]:
        rows = self._runner.run(lambda c: c.execute(select(tickets).where(
            in_scope(tickets, scope) & (tickets.c.departure_id == departure_id)
            & (tickets.c.status == TicketStatus.VALID.value))).all(), write=False)
        return [_ticket(r) for r in rows]

    def candidates(self, scope: Scope, departure_id: str) -> list[str]:
        """Boarding template ids of the departure's valid ticket holders with an active
        boarding consent: one indexed join."""
        t, k, pc = gate_templates, tickets, purpose_consents
        consented = exists().where(
            in_scope(pc, scope) & (pc.c.customer_id == k.c.customer_id)
            & (pc.c.purpose == "boarding") & pc.c.revoked_at_ms.is_(None))
        return self._runner.run(lambda c: list(c.execute(
            select(t.c.id).distinct().join(k, k.c.customer_id == t.c.subject_id).where(
                in_scope(t, scope) & (t.c.purpose == "boarding") & in_scope(k, scope)
                & (k.c.departure_id == departure_id)
                & (k.c.status == TicketStatus.VALID.value) & consented)).scalars()),
            write=False)

    def valid_ticket_of(self, scope: Scope, departure_id: str, customer_id: str) -> Ticket | None:
        r = self._first(select(tickets).where(
            in_scope(tickets, scope) & (tickets.c.departure_id == departure_id)
            & (tickets.c.customer_id == customer_id)
            & (tickets.c.status == TicketStatus.VALID.value)).limit(1))
        return None if r is None else _ticket(r)

    def ticket_by_qr(self, scope: Scope, qr_hash: str) -> Ticket | None:
        r = self._first(select(tickets).where(in_scope(tickets, scope)
                                              & (tickets.c.qr_hash == qr_hash)))
        return None if r is None else _ticket(r)

    def get_ticket(self, scope: Scope, ticket_id: str) -> Ticket | None:
        r = self._first(select(tickets).where(in_scope(tickets, scope)
                                              & (tickets.c.id == ticket_id)))
        return None if r is None else _ticket(r)

    def consume(self, scope: Scope, ticket: Ticket) -> bool:
        """Write ``ticket`` (consumed) if it is still valid: a ticket is consumed once."""
        return bool(self._write(_consume_stmt(scope, ticket)).rowcount == 1)

    def add_attempt(self, scope: Scope, attempt_id: str, departure_id: str,
                    attempt: GateAttempt, ticket_id: str | None, score: float | None,
                    at_ms: int) -> None:
        self._write(_attempt_stmt(scope, attempt_id, departure_id, attempt, ticket_id, score,
                                  at_ms))

    def set_attempt_method(self, scope: Scope, attempt_id: str, method: BoardMethod,
                           ticket_id: str) -> bool:
        return bool(self._write(_method_stmt(scope, attempt_id, method, ticket_id))
                    .rowcount == 1)

    def attempts(self, scope: Scope, departure_id: str) -> list[GateAttempt]:
        t = gate_attempts
        rows = self._runner.run(lambda c: c.execute(select(t).where(
            in_scope(t, scope) & (t.c.departure_id == departure_id))).all(), write=False)
        return [GateAttempt(bool(r.captured), bool(r.matched),
                            None if r.method is None else BoardMethod(r.method)) for r in rows]
