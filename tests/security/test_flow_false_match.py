"""The decision-level false match of face + last four digits (domain.false_match) on the shipped
calibration table of the default strategy: the bound grows with the customers sharing the
digits, is read from the table between its rows, and stops two decades below the lowest
measured rate (the data says nothing further)."""

from __future__ import annotations

import pytest

from smilepay.domain.false_match import decision_false_match, expected_candidates, fmr_at_score
from smilepay.vision.calibration import load_table

ROWS = [(r.far, r.threshold) for r in load_table("fusion_fast").rows]


def test_at_each_calibrated_threshold_the_rate_is_the_rows_rate() -> None:
    for far, threshold in ROWS:
        fmr, source = fmr_at_score(ROWS, threshold)
        assert fmr == pytest.approx(far, rel=1e-9) and source == "measured"


def test_between_rows_it_falls_and_beyond_them_it_stops_two_decades_down() -> None:
    lowest_far = min(far for far, _ in ROWS)
    scores = [t + 0.01 for _, t in sorted(ROWS, key=lambda r: r[1])]
    rates = [fmr_at_score(ROWS, s)[0] for s in scores]
    assert rates == sorted(rates, reverse=True)
    far_out, source = fmr_at_score(ROWS, 0.99)
    assert source == "extrapolated" and far_out == pytest.approx(lowest_far / 100)


@pytest.mark.parametrize(("enrolled", "sharing"), [(1, 1), (10_000, 1), (10_001, 2),
                                                    (1_000_000, 100)])
def test_customers_sharing_four_digits(enrolled: int, sharing: int) -> None:
    assert expected_candidates(enrolled) == sharing


def test_the_bound_grows_with_the_candidate_set_and_decides_four_digits_or_the_full_number(
) -> None:
    at_threshold = 0.4354  # the 1:1 threshold at FMR 1e-4
    one = decision_false_match(ROWS, at_threshold, 1).probability
    hundred = decision_false_match(ROWS, at_threshold, 100).probability
    assert one == pytest.approx(1e-4, rel=0.01)
    assert hundred == pytest.approx(1 - (1 - 1e-4) ** 100, rel=0.01) and hundred > 90 * one
    strong = 0.80  # the kiosk video's score against its enrolment
    assert decision_false_match(ROWS, strong, expected_candidates(10_000)).probability <= 1e-6
    assert decision_false_match(ROWS, strong,
                                expected_candidates(1_000_000)).probability > 1e-6
