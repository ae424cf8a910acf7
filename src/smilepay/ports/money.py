"""Ports of the money core: the store (a unit of work per call), its transaction, the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from smilepay.domain.customers import Customer
from smilepay.domain.events import Notification, WebhookDelivery, WebhookEndpoint
from smilepay.domain.ledger import Account, AccountKind, Hold, Transfer
from smilepay.domain.payments import PaymentIntent
from smilepay.domain.tenants import ApiKey, Scope

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[R]):
    items: list[R]
    has_more: bool


@dataclass(frozen=True)
class StoredResponse:
    """An idempotent call's outcome, replayed byte for byte."""

    status_code: int
    body: bytes


@dataclass(frozen=True)
class PayerStanding:
    """A customer about to pay, with what the risk rules need, read in one statement."""

    customer: Customer
    spent_minor: int  # succeeded or held since ``spent_since_ms``, in the asked currency
    failures: int  # failed verification attempts since ``failures_since_ms``
    mandated: bool = False  # an active standing authorisation for merchant debits (mandate)


@dataclass(frozen=True)
class KeyClaim:
    """An Idempotency-Key as ``MoneyTx.claim_idempotency_key`` will claim it."""

    key: str
    fingerprint: str
    now_ms: int
    expires_at_ms: int


@dataclass(frozen=True)
class PayerHint:
    """The customer a unit of work will charge. With the currency and the risk windows known
    too, its wallet lock and ``payer_standing`` can be read ahead (see ``Hint``)."""

    customer_id: str
    currency: str | None = None
    spent_since_ms: int = 0
    failures_since_ms: int = 0


@dataclass(frozen=True)
class Hint:
    """What a unit of work will do first, told to ``MoneyStore.run`` before it runs.

    A store that runs several callers' units in one transaction (group commit) uses it twice:
    it runs them in payer order, so two such transactions lock wallets in the same order and
    never wait on each other in a cycle; and it reads ahead for all of them at once (one
    statement claims every unit's key, one locks every payer's wallet, one reads every payer's
    standing) instead of a round trip per unit for each. The unit still asks for all of it;
    what was read ahead answers a question only when its answer is exactly what the unit's own
    read would return, so a wrong hint costs time, never correctness."""

    scope: Scope
    payer: PayerHint | None = None
    claim: KeyClaim | None = None


class Clock(Protocol):
    def now_ms(self) -> int: ...


class MoneyTx(Protocol):
    """Reads and writes inside one open transaction; nothing is visible until it commits."""

    def insert(self, record: object) -> None: ...
    def update(self, record: object) -> None: ...
    def get(
        self, cls: type[R], record_id: str, scope: Scope | None = None, *, for_update: bool = False
    ) -> R | None: ...
    def list_page(
        self, cls: type[R], scope: Scope, *, limit: int, starting_after: str | None = None,
        equals: dict[str, object] | None = None,
    ) -> Page[R]: ...
    def find_api_key(self, key_hash: str) -> ApiKey | None: ...
    def find_customers(
        self, scope: Scope, *, phone_hmac: str | None = None, last4_hmac: str | None = None,
        candidate_ids: Sequence[str] | None = None,
    ) -> list[Customer]: ...
    def find_account(
        self, scope: Scope, kind: AccountKind, owner_id: str, currency: str
    ) -> Account | None: ...
    def lock_accounts(self, account_ids: Iterable[str]) -> dict[str, Account]: ...
    def lock_owned_accounts(
        self, scope: Scope, keys: Sequence[tuple[AccountKind, str, str]]
    ) -> list[Account]: ...
    def save_balances(self, accounts: Iterable[Account]) -> None: ...
    def credit_at_commit(self, account_id: str, amount_minor: int) -> None:
        """Add ``amount_minor`` (may be negative) to the balance by the transaction's last
        statement; any read of accounts in this transaction applies it first."""
        ...
    def pending_credit(self, account_id: str) -> int: ...
    def find_reversal(self, transfer_id: str) -> Transfer | None: ...
    def all_accounts(self, scope: Scope | None = None) -> list[Account]: ...
    def all_transfers(self, scope: Scope | None = None) -> list[Transfer]: ...
    def account_transfers(
        self, account_id: str, *, limit: int, starting_after: str | None
    ) -> Page[Transfer]: ...
    def expired_holds(self, now_ms: int, limit: int) -> list[Hold]: ...
    def unpaid_payments(
        self, *, created_before_ms: int | None = None, scope: Scope | None = None,
        terminal_id: str | None = None, limit: int = 500,
    ) -> list[PaymentIntent]: ...
    def payer_standing(
        self, scope: Scope, customer_id: str, currency: str, *, spent_since_ms: int,
        failures_since_ms: int,
    ) -> PayerStanding | None:
        """The customer with its spend in ``currency`` and its recent failures. Current as of
        this statement: lock what serialises the decision (the wallet) before calling it."""
        ...
    def record_attempt(
        self, scope: Scope, attempt_id: str, customer_id: str, payment_intent_id: str | None,
        succeeded: bool, reason: str, now_ms: int,
    ) -> None: ...
    def failure_times_ms(self, customer_id: str, since_ms: int) -> list[int]: ...
    def claim_idempotency_key(self, scope: Scope, claim: KeyClaim) -> StoredResponse | None: ...
    def store_idempotent_response(
        self, scope: Scope, key: str, response: StoredResponse
    ) -> None: ...
    def purge_idempotency_keys(self, now_ms: int) -> int: ...
    def endpoints(self, scope: Scope) -> list[WebhookEndpoint]: ...
    def due_deliveries(self, now_ms: int, limit: int) -> list[WebhookDelivery]: ...
    def record_webhook_attempt(
        self, delivery_id: str, now_ms: int, status_code: int | None, error: str | None,
        duration_ms: int,
    ) -> None: ...
    def webhook_attempts(self, delivery_id: str) -> list[dict[str, Any]]: ...
    def deliveries_for_event(self, event_id: str) -> list[WebhookDelivery]: ...
    def undelivered_notifications(self, limit: int) -> list[Notification]: ...


class MoneyStore(Protocol):
    """Runs a unit of work in one transaction (retried on transient conflicts) and commits.
    ``hint``: what the work will do first, when the caller knows it (see ``Hint``)."""

    def run(
        self, work: Callable[[MoneyTx], T], *, write: bool = True, hint: Hint | None = None
    ) -> T: ...
