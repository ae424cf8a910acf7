"""Identification (1:N): rank-1 on known probes, FNIR at FPIR with unknown probes (pure numpy)."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smilepay.errors import InvalidInput
from smilepay.vision.fusion import build_template
from smilepay.vision.types import Vector

ROLES = {"enrol", "probe", "probe_unknown"}


@dataclass(frozen=True)
class ProtocolEntry:
    path: str
    identity: str
    role: str


@dataclass(frozen=True)
class IdentificationResult:
    rank1: float
    fnir_at_fpir: dict[str, float]
    threshold_at_fpir: dict[str, float]
    n_gallery: int
    n_probe: int
    n_probe_unknown: int
    fail_to_detect: int


def read_protocol(csv_path: Path) -> list[ProtocolEntry]:
    with csv_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"path", "identity", "role"} <= set(reader.fieldnames):
            raise InvalidInput(f"expected columns path,identity,role, got {reader.fieldnames}")
        entries = [ProtocolEntry(r["path"], r["identity"], r["role"].strip()) for r in reader]
    if not entries:
        raise InvalidInput(f"expected at least one row in {csv_path}, got only the header",
                           param="protocol")
    bad = {e.role for e in entries} - ROLES
    if bad:
        raise InvalidInput(f"expected roles {sorted(ROLES)}, got {sorted(bad)}")
    return entries


def first_identities(entries: list[ProtocolEntry], limit: int) -> list[ProtocolEntry]:
    """A quick sample: the entries of the first ``limit`` identities (in file order) and the
    first ``limit`` unknown probes."""
    if limit < 1:
        raise InvalidInput(f"expected a limit of at least 1, got {limit}", param="limit")
    known: list[str] = []
    for e in entries:
        if e.role != "probe_unknown" and e.identity not in known:
            known.append(e.identity)
    keep = set(known[:limit])
    unknown = [e for e in entries if e.role == "probe_unknown"][:limit]
    return [e for e in entries if e.role != "probe_unknown" and e.identity in keep] + unknown


def gallery_templates(entries: list[ProtocolEntry],
                      vectors: dict[str, Vector | None]) -> tuple[list[str], np.ndarray]:
    """One multi-image template per enrolled identity (mean of its unit vectors)."""
    by_identity: dict[str, list[Vector]] = defaultdict(list)
    for e in entries:
        vec = vectors.get(e.path)
        if e.role == "enrol" and vec is not None:
            by_identity[e.identity].append(vec)
    names = sorted(by_identity)
    if not names:
        raise InvalidInput("expected at least one enrolled face, got none")
    return names, np.stack([build_template(by_identity[n]) for n in names])


def identify(entries: list[ProtocolEntry], vectors: dict[str, Vector | None],
             fpirs: tuple[float, ...] = (0.01, 0.1)) -> IdentificationResult:
    names, gallery = gallery_templates(entries, vectors)
    probes = [e for e in entries if e.role == "probe"]
    unknown = [e for e in entries if e.role == "probe_unknown"]
    if not probes:
        raise InvalidInput("expected probes of enrolled identities, got none")

    def top(entry: ProtocolEntry) -> tuple[str | None, float]:
        vec = vectors.get(entry.path)
        if vec is None:
            return None, -np.inf
        scores = gallery @ vec
        best = int(np.argmax(scores))
        return names[best], float(scores[best])

    mated = [(top(p), p.identity) for p in probes]
    nonmated = np.array([top(u)[1] for u in unknown], dtype=np.float64)
    rank1 = float(np.mean([who == truth for (who, _), truth in mated]))
    fnir: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for fpir in fpirs:
        if nonmated.size == 0:
            continue
        allowed = int(np.floor(fpir * nonmated.size + 1e-9))
        ranked = np.sort(nonmated)[::-1]
        threshold = float(np.nextafter(ranked[allowed], np.inf)) if allowed < ranked.size \
            else float(ranked[-1])
        hits = [who == truth and score >= threshold for (who, score), truth in mated]
        fnir[f"{fpir:g}"] = 1.0 - float(np.mean(hits))
        thresholds[f"{fpir:g}"] = threshold
    failed = sum(1 for e in entries if vectors.get(e.path) is None)
    return IdentificationResult(rank1=rank1, fnir_at_fpir=fnir, threshold_at_fpir=thresholds,
                                n_gallery=len(names), n_probe=len(probes),
                                n_probe_unknown=len(unknown), fail_to_detect=failed)
