"""Happy Go: smile intensity to a capped, merchant-funded discount; off without a promotion."""

from __future__ import annotations

import pytest

from smilepay.domain.happy_go import Promotion, happy_go_discount
from smilepay.errors import InvalidInput

PROMO = Promotion("promo_1", max_discount_bps=1000, cap_minor=300, min_smile=0.3)


def test_no_promotion_means_no_discount_whatever_the_smile() -> None:
    assert happy_go_discount(None, 1.0, 10_000) is None


def test_the_discount_grows_with_the_smile_and_is_capped() -> None:
    assert happy_go_discount(PROMO, 0.29, 1000) is None
    half = happy_go_discount(PROMO, 0.65, 1000)
    full = happy_go_discount(PROMO, 1.0, 1000)
    assert half is not None and full is not None
    assert half.amount_minor == 50 and full.amount_minor == 100
    capped = happy_go_discount(PROMO, 1.0, 100_000)
    assert capped is not None and capped.amount_minor == 300


def test_a_payment_never_becomes_free() -> None:
    generous = Promotion("p", max_discount_bps=5000, cap_minor=10_000, min_smile=0.0)
    found = happy_go_discount(generous, 1.0, 2)
    assert found is not None and found.amount_minor == 1
    assert happy_go_discount(generous, 1.0, 1) is None


@pytest.mark.parametrize("bps,cap,smile", [(0, 1, 0.1), (6000, 1, 0.1), (100, -1, 0.1),
                                           (100, 1, 1.0)])
def test_promotions_outside_the_limits_are_refused(bps: int, cap: int, smile: float) -> None:
    with pytest.raises(InvalidInput):
        Promotion("p", bps, cap, smile)
