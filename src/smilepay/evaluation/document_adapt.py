"""A document-to-live map in embedding space, judged by identity-disjoint cross-validation.

DocFace+ adapts a face model to ID-document photos; these offline models cannot be fine-tuned
here, so the adaptation is a linear map of the document's embedding toward the live domain,
learned from (document, the photo it was rendered from) pairs and applied to the document side
only:
- ``procrustes``: the orthogonal W minimising ||D W - S|| (a rotation: cosines among documents
  are kept, only their alignment with live photos moves);
- ``ridge``: W = I + (D'D + lambda I)^-1 D'(S - D), a least-squares map shrunk toward the
  identity, lambda picked on the training identities alone (inner folds, held-out error).

Identities are split into ``folds``; each fold's documents are mapped by the map fitted on the
other folds' identities and scored against every live photo. The folds' scores are pooled, so
every genuine and impostor pair of the baseline is scored once, and no map has seen the
identity of the document it maps. A live photo of a training identity can meet a test
document as an impostor; the map saw only that identity's source photo, never its live ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.evaluation.document import PairScores, cross_scores
from smilepay.vision.types import Vector

Matrix = npt.NDArray[np.float64]
RIDGE_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
METHODS = ("procrustes", "ridge")


def _unit_rows(m: Matrix) -> Matrix:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.asarray(m / np.maximum(norms, 1e-12), dtype=np.float64)


def fit_procrustes(docs: Matrix, sources: Matrix) -> Matrix:
    u, _, vt = np.linalg.svd(docs.T @ sources)
    return np.asarray(u @ vt, dtype=np.float64)


def fit_ridge(docs: Matrix, sources: Matrix, lam: float) -> Matrix:
    dim = docs.shape[1]
    gram = docs.T @ docs + lam * np.eye(dim)
    return np.eye(dim) + np.linalg.solve(gram, docs.T @ (sources - docs))


def folds_of(identities: Sequence[str], folds: int, seed: int) -> list[list[str]]:
    """Identities shuffled (seeded) and dealt into ``folds`` disjoint groups."""
    if folds < 2 or folds > len(identities):
        raise ValueError(f"expected 2..{len(identities)} folds, got {folds}")
    order = sorted(identities)
    np.random.default_rng(seed).shuffle(order)
    return [order[k::folds] for k in range(folds)]


def pick_lambda(docs: Matrix, sources: Matrix, seed: int, inner: int = 3) -> float:
    """The ridge strength with the least held-out cosine error, on these rows alone."""
    idx = np.random.default_rng(seed).permutation(len(docs))
    parts = np.array_split(idx, inner)
    errors = []
    for lam in RIDGE_GRID:
        err = 0.0
        for k in range(inner):
            train = np.concatenate([p for j, p in enumerate(parts) if j != k])
            w = fit_ridge(docs[train], sources[train], lam)
            mapped = _unit_rows(docs[parts[k]] @ w)
            err += float(np.sum(1.0 - np.sum(mapped * sources[parts[k]], axis=1)))
        errors.append(err)
    return RIDGE_GRID[int(np.argmin(errors))]


@dataclass(frozen=True)
class FoldReport:
    fold: int
    test_identities: int
    train_pairs: int
    ridge_lambda: float


@dataclass(frozen=True)
class AdaptedScores:
    scores: dict[str, PairScores]  # per method, pooled over the folds
    folds: list[FoldReport]


def cross_validated(docs: Mapping[str, Vector | None], sources: Mapping[str, Vector | None],
                    live: Sequence[tuple[str, Vector | None]], folds: int = 5,
                    seed: int = 0) -> AdaptedScores:
    """Each method's pooled scores, every document mapped by a map fitted without its identity.

    A document without a face stays a reject (``-inf``), as in the baseline."""
    groups = folds_of(list(docs), folds, seed)
    mapped: dict[str, dict[str, Vector | None]] = {m: {} for m in METHODS}
    reports: list[FoldReport] = []
    for k, test in enumerate(groups):
        held = set(test)
        train = [i for i in docs if i not in held
                 and docs[i] is not None and sources.get(i) is not None]
        d = _unit_rows(np.stack([np.asarray(docs[i], np.float64) for i in train]))
        s = _unit_rows(np.stack([np.asarray(sources[i], np.float64) for i in train]))
        lam = pick_lambda(d, s, seed + k)
        maps = {"procrustes": fit_procrustes(d, s), "ridge": fit_ridge(d, s, lam)}
        for ident in test:
            vector = docs[ident]
            for method, w in maps.items():
                if vector is None:
                    mapped[method][ident] = None
                else:
                    out = np.asarray(vector, np.float64) @ w
                    mapped[method][ident] = (out / np.linalg.norm(out)).astype(np.float32)
        reports.append(FoldReport(k, len(test), len(train), lam))
    return AdaptedScores({m: cross_scores(mapped[m], live) for m in METHODS}, reports)
