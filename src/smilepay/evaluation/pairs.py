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
    """The pairs of a ``path_a,path_b,same`` CSV; ``InvalidInput`` for a file with none."""
    with csv_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        wanted = {"path_a", "path_b", "same"}
        if reader.fieldnames is None or not wanted <= set(reader.fieldnames):
            got = ",".join(reader.fieldnames) if reader.fieldnames else "an empty file"
            raise InvalidInput(f"expected a CSV with columns path_a,path_b,same in {csv_path}, "
                               f"got {got}", param="pairs")
        pairs = [Pair(r["path_a"], r["path_b"], (r["same"] or "").strip() in {"1", "true", "True"})
                 for r in reader]
    if not pairs:
        raise InvalidInput(f"expected at least one pair in {csv_path}, got only the header",
                           param="pairs")
    return pairs


def check_both_kinds(pairs: list[Pair]) -> None:
    """Verification needs genuine and impostor pairs: ``InvalidInput`` naming what is missing."""
    genuine = sum(p.same for p in pairs)
    if genuine == 0 or genuine == len(pairs):
        missing = "genuine (same=1)" if genuine == 0 else "impostor (same=0)"
        raise InvalidInput(f"expected genuine and impostor pairs, got no {missing} pair "
                           f"among {len(pairs)}", param="pairs")


def with_extra_impostors(pairs: list[Pair]) -> list[Pair]:
    """``pairs`` plus an impostor pair for every two images of different identities."""
    seen = {frozenset((p.path_a, p.path_b)) for p in pairs}
    images = sorted({p.path_a for p in pairs} | {p.path_b for p in pairs})
    extra = [Pair(a, b, False) for a, b in combinations(images, 2)
             if identity_of(a) != identity_of(b) and frozenset((a, b)) not in seen]
    return pairs + extra
