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


# --- the face flow's phone factor and sessions ------------------------------------------------
@dataclass(frozen=True)
class FactorLimits:
    """Failed phone-factor attempts of the face flow, counted per payment, per terminal and per
    probe face (the template the face matched above threshold). Reaching a limit locks further
    attempts of that payment, terminal or face for the window, never the phone's owner: a
    number typed with someone else's face says nothing against the number's owner."""

    per_payment: int = 2
    per_terminal: int = 10
    per_face: int = 5
    window_s: int = 15 * 60


def factor_lock(payment: int, terminal: int, face: int, limits: FactorLimits) -> str | None:
    """Which count locks the next attempt: ``"payment"``, ``"terminal"``, ``"face"`` or None."""
    for name, seen, most in (("payment", payment, limits.per_payment),
                             ("terminal", terminal, limits.per_terminal),
                             ("face", face, limits.per_face)):
        if seen >= most:
            return name
    return None


@dataclass(frozen=True)
class FlowRateLimits:
    """Sliding-window caps, each a list of ``(window_ms, most)``: one-time codes sent per phone
    number and per terminal; face sessions opened per wallet session and per terminal. Open
    sessions per owner are capped too: a new one closes the oldest beyond ``open_sessions``."""

    signups_per_phone: tuple[tuple[int, int], ...] = ((15 * 60_000, 3), (DAY_MS, 10))
    signups_per_terminal: tuple[tuple[int, int], ...] = ((60 * 60_000, 60),)
    sessions_per_wallet: tuple[tuple[int, int], ...] = ((10 * 60_000, 20),)
    sessions_per_terminal: tuple[tuple[int, int], ...] = ((60_000, 30),)
    open_sessions: int = 2
