"""Verification pairs: a ``path_a,path_b,same`` file plus every cross-identity impostor pair."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path, PurePosixPath

from smilepay.errors import InvalidInput


@dataclass(frozen=True)
class Pair:
    path_a: str
    path_b: str
    same: bool


def identity_of(path: str) -> str:
    """The identity of an image: its parent folder."""
    return str(PurePosixPath(path).parent)


def read_pairs(csv_path: Path) -> list[Pair]:
    with csv_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        wanted = {"path_a", "path_b", "same"}
        if reader.fieldnames is None or not wanted <= set(reader.fieldnames):
            raise InvalidInput(f"expected columns {sorted(wanted)}, got {reader.fieldnames}")
        return [Pair(r["path_a"], r["path_b"], r["same"].strip() in {"1", "true", "True"})
                for r in reader]


def with_extra_impostors(pairs: list[Pair]) -> list[Pair]:
    """``pairs`` plus an impostor pair for every two images of different identities."""
    seen = {frozenset((p.path_a, p.path_b)) for p in pairs}
    images = sorted({p.path_a for p in pairs} | {p.path_b for p in pairs})
    extra = [Pair(a, b, False) for a, b in combinations(images, 2)
             if identity_of(a) != identity_of(b) and frozenset((a, b)) not in seen]
    return pairs + extra
