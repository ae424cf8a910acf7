"""Ports of the money core: the store (a unit of work per call), its transaction, the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from smilepay.domain.customers import Customer
from smilepay.domain.events import Notification, WebhookDelivery, WebhookEndpoint
from smilepay.domain.ledger import Account, AccountKind, Hold, Transfer
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
    def claim_idempotency_key(
        self, scope: Scope, key: str, fingerprint: str, now_ms: int, expires_at_ms: int
    ) -> StoredResponse | None: ...
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

    ``lock_key``: the customer whose wallet the work locks, when the caller knows it. A store
    that runs several callers' work in one transaction (group commit) runs keyed work in key
    order, so two such transactions lock wallets in the same order and never wait on each
    other in a cycle."""

    def run(
        self, work: Callable[[MoneyTx], T], *, write: bool = True, lock_key: str | None = None
    ) -> T: ...
