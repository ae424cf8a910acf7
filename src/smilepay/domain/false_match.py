"""The decision-level false match of a face + phone-digits payment.

A face plus the last four digits is 1:few, not 1:1: an impostor who types four digits is
compared with every enrolled customer whose number ends with them (about N / 10,000 of N).
The chance that an impostor's face scores at least ``s`` against one of ``n`` candidates is

    p(s, n) = 1 - (1 - FMR(s)) ** n  (about n * FMR(s))

where FMR(s) is the impostor score tail measured in the calibration table (rows of false-match
rate and threshold). Between rows FMR is interpolated log-linearly; above the highest measured
threshold it is extrapolated along the last two rows' slope, by at most ``MAX_EXTRAPOLATED_DECADES``
decades (beyond that the data says nothing, so the bound stops there: conservative).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_EXTRAPOLATED_DECADES = 2.0
DIGITS_SHARED = 10_000  # last four digits: one number in 10,000 ends the same way


@dataclass(frozen=True)
class FalseMatch:
    fmr: float  # per comparison, at the decision's score
    candidates: int  # customers the face is compared with (sharing the digits typed)
    probability: float  # that some impostor face scores this high against one of them
    source: str  # "measured" (within the table) or "extrapolated"


def fmr_at_score(rows: Sequence[tuple[float, float]], score: float) -> tuple[float, str]:
    """FMR(score) from ``(far, threshold)`` rows: interpolated, or extrapolated a little."""
    points = sorted((t, math.log10(f)) for f, t in rows if f > 0)
    if not points:
        return 1.0, "measured"
    if score <= points[0][0]:
        return min(1.0, 10 ** points[0][1]), "measured"
    for (t0, l0), (t1, l1) in itertools.pairwise(points):
        if t0 <= score <= t1:
            return 10 ** (l0 + (l1 - l0) * (score - t0) / (t1 - t0)), "measured"
    t_last, l_last = points[-1]
    if len(points) < 2:
        return 10 ** l_last, "measured"
    t_prev, l_prev = points[-2]
    slope = (l_last - l_prev) / (t_last - t_prev)  # decades per unit of score (negative)
    drop = max(slope * (score - t_last), -MAX_EXTRAPOLATED_DECADES)
    return 10 ** (l_last + drop), "extrapolated"


def decision_false_match(rows: Sequence[tuple[float, float]], score: float,
                         candidates: int) -> FalseMatch:
    fmr, source = fmr_at_score(rows, score)
    n = max(candidates, 1)
    probability = -math.expm1(n * math.log1p(-min(fmr, 1.0 - 1e-15)))
    return FalseMatch(fmr, n, probability, source)


def expected_candidates(enrolled: int) -> int:
    """Customers expected to share one set of last four digits among ``enrolled``."""
    return max(1, math.ceil(enrolled / DIGITS_SHARED))
