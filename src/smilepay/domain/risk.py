"""Risk rules that run before the ledger moves money: per-payment and per-day limits, lockout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smilepay.domain.money_errors import CustomerLockedOut, PaymentLimitExceeded


@dataclass(frozen=True)
class CustomerLimits:
    """In minor units of the payment's currency: the day's spend counts that currency only."""

    per_payment_minor: int
    per_day_minor: int


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed attempts within ``window_s``, refuse for ``lock_s``."""

    max_failures: int = 5
    window_s: int = 15 * 60
    lock_s: int = 30 * 60


DAY_MS = 24 * 3600 * 1000


def check_limits(amount_minor: int, spent_today_minor: int, limits: CustomerLimits) -> None:
    if amount_minor > limits.per_payment_minor:
        raise PaymentLimitExceeded(
            f"expected at most {limits.per_payment_minor} per payment, got {amount_minor}",
            limit_minor=limits.per_payment_minor,
        )
    if spent_today_minor + amount_minor > limits.per_day_minor:
        raise PaymentLimitExceeded(
            f"expected at most {limits.per_day_minor} per day, got "
            f"{spent_today_minor} spent plus {amount_minor}",
            daily=True,
            limit_minor=limits.per_day_minor,
        )


def locked_until_ms(failure_times_ms: Sequence[int], policy: LockoutPolicy) -> int | None:
    """When the lock ends, if ``max_failures`` failures fall within one window; else None."""
    times = sorted(failure_times_ms)
    window_ms = policy.window_s * 1000
    until: int | None = None
    for end in range(policy.max_failures - 1, len(times)):
        if times[end] - times[end - policy.max_failures + 1] <= window_ms:
            until = times[end] + policy.lock_s * 1000
    return until


def check_not_locked(failure_times_ms: Sequence[int], policy: LockoutPolicy, now_ms: int) -> None:
    until = locked_until_ms(failure_times_ms, policy)
    if until is not None and now_ms < until:
        raise CustomerLockedOut(
            f"expected fewer than {policy.max_failures} failed attempts in "
            f"{policy.window_s} s, got {policy.max_failures} or more",
            locked_until_ms=until,
        )


def lookback_ms(policy: LockoutPolicy) -> int:
    """How far back failures can still matter for a lock."""
    return (policy.window_s + policy.lock_s) * 1000
