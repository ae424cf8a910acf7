"""Ports of the checkout-free store: a unit of work over the store's tables (with the money
core's transaction inside the same database transaction), and a gate identifier.

Rows are plain dicts keyed by column name; ``table`` is a store table's short name
(``trips``, ``events``, ...). The SQL adapter is ``adapters.sql.store_repo``. A device's
secret is sealed with ``StoreTx.device_keys`` (never stored in clear).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from smilepay.domain.tenants import Scope
from smilepay.ports.identity import KeyRing
from smilepay.ports.money import MoneyTx

T = TypeVar("T")
Row = dict[str, Any]


class StoreTx(Protocol):
    """The store's reads and writes inside one open transaction."""

    @property
    def money(self) -> MoneyTx: ...

    @property
    def device_keys(self) -> KeyRing:
        """The key ring that seals the devices' secrets at rest
        (``services.store_device_secrets``)."""
        ...

    def insert(self, table: str, row: Row) -> None: ...
    def insert_ignore(self, table: str, rows: Sequence[Row]) -> int:
        """Insert each row unless its key exists; how many were new."""
        ...
    def update(self, table: str, key: Row, values: Row) -> int: ...
    def one(self, table: str, *, for_update: bool = False, **where: Any) -> Row | None: ...
    def rows(self, table: str, *, order_by: str | None = None, descending: bool = False,
             limit: int | None = None, **where: Any) -> list[Row]: ...
    def rows_in(self, table: str, column: str, values: Sequence[Any], **where: Any) -> list[Row]:
        ...
    def events_between(self, store_id: str, kind: str, start_ms: int, end_ms: int
                       ) -> list[Row]:
        """A store's events of one kind by device time, in time order."""
        ...
    def silent_devices(self, before_ms: int) -> list[Row]:
        """Devices not heard from since ``before_ms`` and not yet alerted."""
        ...


class StoreUnit(Protocol):
    def run(self, work: Callable[[StoreTx], T], *, write: bool = True) -> T: ...


@dataclass(frozen=True)
class GateFrame:
    """One picture from a gate camera: encoded image bytes (JPEG/PNG) as sent by the gate."""

    image: bytes


@dataclass(frozen=True)
class GateIdentity:
    """What the face at a gate gave. ``state``: ``recognised`` (``customer_id`` set),
    ``collecting`` (the liveness challenge runs: show ``prompt``, send the next frames with
    ``session``), ``digits_needed`` (the decision-level false-match bound asks for the phone's
    last four digits on the keypad, sent with ``session``), ``not_live`` (the challenge
    failed), ``no_face`` (its time ran out with no usable face: an idle gate),
    ``not_recognised`` (nobody with store-entry consent matched, or the digits did
    not name them)."""

    state: str
    customer_id: str | None = None
    session: str | None = None
    prompt: str = ""


class GateIdentifier(Protocol):
    """Names the customer in front of a gate from its camera's frames, among the customers
    who gave store-entry consent. The face engine implements it; the store depends on
    nothing else of it."""

    def identify(self, scope: Scope, gate_id: str, frames: Sequence[GateFrame], *,
                 session: str | None = None, digits: str | None = None) -> GateIdentity: ...
