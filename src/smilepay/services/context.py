"""What the money services need besides a transaction: the clock, phone crypto, policies."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from smilepay.domain.risk import CustomerLimits, LockoutPolicy
from smilepay.ports.money import Clock
from smilepay.services.phones import PhoneCipher


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass
class FixedClock:
    """A clock tests move by hand."""

    now: int = 1_800_000_000_000

    def now_ms(self) -> int:
        return self.now

    def advance_s(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


@dataclass(frozen=True)
class MoneyPolicy:
    default_limits: CustomerLimits = field(
        default_factory=lambda: CustomerLimits(per_payment_minor=50_000, per_day_minor=200_000)
    )
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    hold_ttl_s: int = 7 * 24 * 3600
    unpaid_ttl_s: int = 600  # an intent nobody paid is canceled after this (SMILEPAY_UNPAID_TTL_S)
    idempotency_ttl_s: int = 24 * 3600


@dataclass(frozen=True)
class MoneyContext:
    clock: Clock
    phones: PhoneCipher
    policy: MoneyPolicy = field(default_factory=MoneyPolicy)
