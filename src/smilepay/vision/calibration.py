"""Calibration tables: target false-match rate -> score threshold, measured per strategy.

A table is ``smilepay/data/calibration_<model_id>.json`` with rows
``{"far": 1e-4, "threshold": 0.41, "tar": 0.93, "impostor_pairs": 108900, "impostors_above": 10}``;
``impostor_pairs`` says how much data supports the row (a rate below ``1 / impostor_pairs``
cannot be measured and is refused).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from smilepay.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class CalibrationRow:
    far: float
    threshold: float
    tar: float
    impostor_pairs: int
    impostors_above: int


@dataclass(frozen=True)
class CalibrationTable:
    model_id: str
    rows: tuple[CalibrationRow, ...]  # sorted by far, largest first
    source: str = ""

    def threshold_at_far(self, far: float) -> float:
        """The threshold of the row with the largest rate not above ``far`` (conservative)."""
        eligible = [r for r in self.rows if r.far <= far * (1 + 1e-9)]
        if not eligible:
            lowest = min(r.far for r in self.rows)
            raise InvalidInput(f"expected a false-match rate >= {lowest:g} (the lowest measured "
                               f"for {self.model_id}), got {far:g}")
        return max(eligible, key=lambda r: r.far).threshold


def table_filename(model_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in model_id)
    return f"calibration_{safe}.json"


def parse_table(payload: dict[str, object]) -> CalibrationTable:
    rows_raw = payload.get("rows")
    if not isinstance(rows_raw, list) or not rows_raw:
        raise InvalidInput(f"expected a calibration table with rows, got {type(rows_raw).__name__}")
    parsed = [CalibrationRow(far=float(r["far"]), threshold=float(r["threshold"]),
                             tar=float(r["tar"]), impostor_pairs=int(r["impostor_pairs"]),
                             impostors_above=int(r["impostors_above"])) for r in rows_raw]
    rows = tuple(sorted(parsed, key=lambda r: -r.far))
    return CalibrationTable(model_id=str(payload["model_id"]), rows=rows,
                            source=str(payload.get("source", "")))


@lru_cache(maxsize=16)
def load_table(model_id: str) -> CalibrationTable:
    """The table shipped with the package for ``model_id``; ``NotFound`` when none is."""
    resource = resources.files("smilepay").joinpath("data", table_filename(model_id))
    if not resource.is_file():
        raise NotFound(f"expected a calibration table for {model_id!r} "
                       f"({table_filename(model_id)}), got none: run `smilepay eval verify` "
                       "and ship its table", model_id=model_id)
    return parse_table(json.loads(resource.read_text()))


def threshold_at_far(model_id: str, far: float) -> float:
    """The calibrated score threshold for ``model_id`` at false-match rate ``far``."""
    return load_table(model_id).threshold_at_far(far)
