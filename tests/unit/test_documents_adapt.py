"""The document-to-live maps and their identity-disjoint folds, on synthetic embeddings whose
document domain is a known rotation (plus noise) of the live one."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.evaluation.document import summarise
from smilepay.evaluation.document_adapt import (
    cross_validated,
    fit_procrustes,
    fit_ridge,
    folds_of,
    pick_lambda,
)

DIM = 16


def unit(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(DIM, DIM)))
    return np.asarray(q)


def world(n: int, seed: int = 0, noise: float = 0.15) -> tuple[dict, dict, list, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(n, DIM)))
    turn = rotation(rng)
    ids = [f"p{i:03d}" for i in range(n)]
    sources = {i: unit(c + noise * rng.normal(size=DIM)).astype(np.float32)
               for i, c in zip(ids, centres, strict=True)}
    docs = {i: unit((c + noise * rng.normal(size=DIM)) @ turn).astype(np.float32)
            for i, c in zip(ids, centres, strict=True)}
    live = [(i, unit(c + noise * rng.normal(size=DIM)).astype(np.float32))
            for i, c in zip(ids, centres, strict=True) for _ in range(2)]
    return docs, sources, live, turn


def test_procrustes_recovers_a_rotation_and_ridge_approaches_it() -> None:
    docs, sources, _, turn = world(200)
    d = np.stack([docs[i] for i in docs]).astype(np.float64)
    s = np.stack([sources[i] for i in docs]).astype(np.float64)
    w = fit_procrustes(d, s)
    assert np.allclose(w @ w.T, np.eye(DIM), atol=1e-8)  # orthogonal
    # the inverse of the domain turn, up to the noise (a random turn is about 5.7 away)
    assert np.linalg.norm(w - turn.T) < 1.0 < 5.0 < np.linalg.norm(np.eye(DIM) - turn.T)
    ridge = fit_ridge(d, s, pick_lambda(d, s, seed=0))
    assert np.mean(np.sum(unit(d @ ridge) * s, axis=1)) > np.mean(np.sum(d * s, axis=1)) + 0.5


def test_folds_are_disjoint_and_cover_every_identity() -> None:
    ids = [f"p{i}" for i in range(23)]
    groups = folds_of(ids, 5, seed=3)
    assert sorted(i for g in groups for i in g) == sorted(ids)
    assert sum(len(g) for g in groups) == len(ids) and len(groups) == 5
    assert folds_of(ids, 5, seed=3) == groups and folds_of(ids, 5, seed=4) != groups
    with pytest.raises(ValueError, match="folds"):
        folds_of(ids, 1, seed=0)


def test_cross_validated_maps_lift_a_turned_domain_and_keep_every_pair() -> None:
    docs, sources, live, _ = world(120, seed=1)
    docs["p000"] = None  # a document without a face stays a reject
    adapted = cross_validated(docs, sources, live, folds=4, seed=0)
    assert [f.test_identities for f in adapted.folds] == [30, 30, 30, 30]
    assert all(f.train_pairs in (89, 90) for f in adapted.folds)  # never its own fold's
    from smilepay.evaluation.document import cross_scores

    base = cross_scores(docs, live)
    for method, scores in adapted.scores.items():
        assert scores.genuine.size == base.genuine.size, method
        assert scores.impostor.size == base.impostor.size, method
        assert np.isneginf(scores.genuine).sum() == 2  # p000's two live photos
        assert (summarise(scores)["tar_at_far"]["1e-2"]
                > summarise(base)["tar_at_far"]["1e-2"] + 0.3), method
