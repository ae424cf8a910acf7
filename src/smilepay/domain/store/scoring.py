"""Charges scored against a simulation's ground truth: item precision and recall, charges
of items a trip did not take, over- and under-charged amounts, and latency percentiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChargeScore:
    trips: int
    items_true: int
    items_charged: int
    items_correct: int
    precision: float
    recall: float
    wrong_person_charges: int  # units charged to a trip that did not take them
    over_charged_minor: int
    under_charged_minor: int


def score_charges(truth: Mapping[str, Mapping[str, int]],
                  charged: Mapping[str, Mapping[str, int]],
                  prices: Mapping[str, int]) -> ChargeScore:
    """``truth`` and ``charged``: trip -> gtin -> units."""
    true_n = charged_n = correct = wrong = 0
    over = under = 0
    for trip in set(truth) | set(charged):
        want, got = truth.get(trip, {}), charged.get(trip, {})
        for gtin in set(want) | set(got):
            w, g = want.get(gtin, 0), got.get(gtin, 0)
            true_n += w
            charged_n += g
            correct += min(w, g)
            if g > w:
                wrong += g - w
                over += (g - w) * prices.get(gtin, 0)
            else:
                under += (w - g) * prices.get(gtin, 0)
    return ChargeScore(
        trips=len(truth), items_true=true_n, items_charged=charged_n, items_correct=correct,
        precision=correct / charged_n if charged_n else 1.0,
        recall=correct / true_n if true_n else 1.0,
        wrong_person_charges=wrong, over_charged_minor=over, under_charged_minor=under,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
