"""The double-entry ledger's rules, as pure functions over plain records.

A transfer moves ``amount_minor`` from one account (debit) to another (credit) in one currency:
each transfer is a debit/credit pair, so every currency sums to zero by construction. Balances
are credit-normal (``balance_minor`` is what the account holds). A pending hold reserves money on
its debit account (``pending_out_minor``) until it is posted, voided or expires. The balance rule:
``balance_minor - pending_out_minor >= 0`` unless the account allows negatives. The SQL store
enforces the same rule with a CHECK constraint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from smilepay.domain.money import check_amount_minor
from smilepay.domain.money_errors import (
    CurrencyMismatch,
    HoldNotPending,
    InsufficientFunds,
    InvalidAmount,
)


class AccountKind(StrEnum):
    CUSTOMER_WALLET = "customer_wallet"
    MERCHANT_BALANCE = "merchant_balance"
    PLATFORM_FEES = "platform_fees"
    FUNDING = "funding"  # where test-mode top-ups come from; may go negative
    PAYOUTS = "payouts"  # where merchant payouts go


class TransferKind(StrEnum):
    TOPUP = "topup"
    PAYMENT = "payment"
    FEE = "fee"
    REFUND = "refund"
    PAYOUT = "payout"
    REVERSAL = "reversal"


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Account:
    id: str
    tenant_id: str
    livemode: bool
    kind: AccountKind
    owner_id: str  # the customer for a wallet, "" for the tenant's own accounts
    currency: str
    allow_negative: bool
    balance_minor: int
    pending_out_minor: int
    created_at_ms: int


@dataclass(frozen=True)
class Transfer:
    id: str
    tenant_id: str
    livemode: bool
    kind: TransferKind
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    payment_intent_id: str | None
    reverses_id: str | None
    created_at_ms: int


@dataclass(frozen=True)
class Hold:
    id: str
    tenant_id: str
    livemode: bool
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    status: HoldStatus
    captured_minor: int
    expires_at_ms: int
    payment_intent_id: str | None
    created_at_ms: int
    resolved_at_ms: int | None


def available_minor(account: Account) -> int:
    """What the account can still spend: posted balance less pending holds."""
    return account.balance_minor - account.pending_out_minor


def obeys_balance_rule(account: Account) -> bool:
    return account.pending_out_minor >= 0 and (
        account.allow_negative or available_minor(account) >= 0
    )


def _check_pair(debit: Account, credit: Account, amount_minor: int, currency: str) -> None:
    check_amount_minor(amount_minor)
    if debit.id == credit.id:
        raise InvalidAmount(f"expected two different accounts, got {debit.id} twice")
    for account in (debit, credit):
        if account.currency != currency:
            raise CurrencyMismatch(
                f"expected {currency} on {account.id}, got {account.currency}",
                account_id=account.id,
            )


def _require_funds(debit: Account, amount_minor: int) -> None:
    if not debit.allow_negative and available_minor(debit) < amount_minor:
        raise InsufficientFunds(
            f"expected at least {amount_minor} available on {debit.id}, "
            f"got {available_minor(debit)}",
            account_id=debit.id,
            available_minor=available_minor(debit),
            requested_minor=amount_minor,
        )


def apply_transfer(
    debit: Account, credit: Account, amount_minor: int, currency: str
) -> tuple[Account, Account]:
    """Both accounts after a posted transfer, or ``InsufficientFunds``."""
    _check_pair(debit, credit, amount_minor, currency)
    _require_funds(debit, amount_minor)
    return (
        replace(debit, balance_minor=debit.balance_minor - amount_minor),
        replace(credit, balance_minor=credit.balance_minor + amount_minor),
    )


def check_covered_transfer(
    debit: Account, credit: Account, amount_minor: int, currency: str, covering_minor: int
) -> None:
    """A transfer paid out of ``covering_minor`` that the same transaction credits to ``debit``
    (a fee out of the payment it rides on): the debit's floor holds whatever its balance."""
    _check_pair(debit, credit, amount_minor, currency)
    if covering_minor < amount_minor:
        raise InsufficientFunds(
            f"expected a pending credit of at least {amount_minor} on {debit.id}, "
            f"got {covering_minor}",
            account_id=debit.id, available_minor=covering_minor, requested_minor=amount_minor,
        )


def reserve_hold(debit: Account, credit: Account, amount_minor: int, currency: str) -> Account:
    """The debit account with ``amount_minor`` reserved for a pending hold."""
    _check_pair(debit, credit, amount_minor, currency)
    _require_funds(debit, amount_minor)
    return replace(debit, pending_out_minor=debit.pending_out_minor + amount_minor)


def release_hold(hold: Hold, debit: Account) -> Account:
    """The debit account with the hold's reservation released (before posting or voiding)."""
    if hold.status is not HoldStatus.PENDING:
        raise HoldNotPending(
            f"expected a pending hold, got {hold.status.value}", hold_id=hold.id
        )
    return replace(debit, pending_out_minor=debit.pending_out_minor - hold.amount_minor)


def check_capture_minor(hold: Hold, capture_minor: int) -> int:
    """A capture must be positive and at most the held amount."""
    check_amount_minor(capture_minor, param="amount_to_capture_minor")
    if capture_minor > hold.amount_minor:
        raise InvalidAmount(
            f"expected at most {hold.amount_minor} to capture, got {capture_minor}",
            param="amount_to_capture_minor",
        )
    return capture_minor


def is_hold_expired(hold: Hold, now_ms: int) -> bool:
    return hold.status is HoldStatus.PENDING and now_ms >= hold.expires_at_ms


def sum_by_currency(accounts: Iterable[Account]) -> dict[str, int]:
    """Posted balances summed per currency; a sound ledger gives zero for every currency."""
    totals: dict[str, int] = defaultdict(int)
    for account in accounts:
        totals[account.currency] += account.balance_minor
    return dict(totals)


def replay_balances(transfers: Iterable[Transfer]) -> dict[str, int]:
    """Each account's balance recomputed from the transfers alone."""
    balances: dict[str, int] = defaultdict(int)
    for transfer in transfers:
        balances[transfer.debit_account_id] -= transfer.amount_minor
        balances[transfer.credit_account_id] += transfer.amount_minor
    return dict(balances)
