"""What the face flows need of the money core (``bootstrap.Container`` provides it): its store,
its context (clock, phone cipher, policy) and the notifier. The face services type against
this, never against the composition root."""

from __future__ import annotations

from typing import Protocol

from smilepay.ports.money import MoneyStore
from smilepay.ports.notify import Notifier
from smilepay.services.context import MoneyContext


class MoneySide(Protocol):
    @property
    def store(self) -> MoneyStore: ...

    @property
    def ctx(self) -> MoneyContext: ...

    @property
    def notifier(self) -> Notifier: ...
