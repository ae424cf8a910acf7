"""Happy Go: a merchant promotion that turns smile intensity into a discount.

Off unless the merchant has an active promotion; capped; paid by the merchant (the service
refunds the discount from the merchant's balance right after the payment). The smile score
is read after the identity decision and never feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from smilepay.errors import InvalidInput

MAX_BPS = 5_000  # a promotion may give at most half off


@dataclass(frozen=True)
class Promotion:
    promotion_id: str
    max_discount_bps: int  # discount at a full smile, in basis points of the amount
    cap_minor: int  # never more than this, in minor units
    min_smile: float  # below this smile score, no discount

    def __post_init__(self) -> None:
        if not 0 < self.max_discount_bps <= MAX_BPS:
            raise InvalidInput(f"expected max_discount_bps in 1..{MAX_BPS}, "
                               f"got {self.max_discount_bps}")
        if self.cap_minor < 0:
            raise InvalidInput(f"expected cap_minor >= 0, got {self.cap_minor}")
        if not 0.0 <= self.min_smile < 1.0:
            raise InvalidInput(f"expected min_smile in [0, 1), got {self.min_smile}")


@dataclass(frozen=True)
class Discount:
    amount_minor: int
    smile: float
    promotion_id: str


def happy_go_discount(
    promotion: Promotion | None, smile: float, amount_minor: int
) -> Discount | None:
    """The discount for a smile of ``smile`` (0..1) on ``amount_minor``; None when none applies.

    Linear from ``min_smile`` (0) to a full smile (``max_discount_bps``), rounded down, capped
    by ``cap_minor`` and by the amount less one minor unit (a payment never becomes free).
    """
    if promotion is None or smile < promotion.min_smile or amount_minor <= 1:
        return None
    span = 1.0 - promotion.min_smile
    strength = min(1.0, (smile - promotion.min_smile) / span) if span > 0 else 1.0
    raw = int(amount_minor * promotion.max_discount_bps * strength) // 10_000
    amount = min(raw, promotion.cap_minor, amount_minor - 1)
    if amount <= 0:
        return None
    return Discount(amount, round(smile, 3), promotion.promotion_id)
