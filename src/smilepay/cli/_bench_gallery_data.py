"""The gallery benchmark's data: real face embeddings (cached under var/) plus Gaussian
distractors, and the exact answers recall is measured against."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Matrix = np.ndarray[Any, np.dtype[np.float32]]


@dataclass
class BenchData:
    model_id: str
    gallery: Matrix  # real rows first, then distractors; L2-normalised
    real_rows: int
    probes: Matrix  # real photos not in the gallery
    exact_top1: np.ndarray[Any, np.dtype[np.int64]]  # row of each probe's exact nearest


def real_embeddings(data: Path, cache_dir: Path, strategy: str,
                    on_file: Callable[[], None] | None = None) -> tuple[Matrix, Matrix, str]:
    """(gallery rows, probe rows, model id) from protocols/identification.csv: enrol and
    unknown photos go to the gallery, the genuine probes search it."""
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.identify import read_protocol
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator

    entries = read_protocol(data / "protocols" / "identification.csv")
    evaluator = StrategyEvaluator(data, YuNetDetector(), EmbeddingCache(cache_dir))
    paths = sorted({e.path for e in entries})
    try:
        vectors = evaluator.strategy_vectors(strategy, paths, on_file)
        if any(len(t) > _stored_rows(cache_dir, k) for k, t in evaluator.cache.vectors.items()):
            evaluator.cache.save()  # only when something new was embedded: runs side by side
            # read these files, and np.savez rewrites them in place
    finally:
        evaluator.close()
    gallery = [vectors[e.path] for e in entries if e.role != "probe"]
    probes = [vectors[e.path] for e in entries if e.role == "probe"]
    return _unit([v for v in gallery if v is not None]), \
        _unit([v for v in probes if v is not None]), strategy


def _stored_rows(cache_dir: Path, key: str) -> int:
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in key)
    path = cache_dir / f"embeddings_{safe}.npz"
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as stored:
        return len(stored["paths"])


def _unit(rows: list[Any]) -> Matrix:
    matrix = np.stack(rows).astype(np.float32)
    normalised: Matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return normalised


def gaussian_distractors(real: Matrix, count: int, seed: int = 7,
                         chunk: int = 50_000) -> Iterator[Matrix]:
    """``count`` vectors from N(mean, cov) of ``real`` (a small ridge keeps cov definite),
    L2-normalised, in chunks: not uniform noise, which makes search look easier."""
    mean = real.mean(axis=0).astype(np.float64)
    cov = np.cov(real.astype(np.float64), rowvar=False)
    cov += np.eye(cov.shape[0]) * 1e-4 * float(np.trace(cov)) / cov.shape[0]
    factor = np.linalg.cholesky(cov)
    rng = np.random.default_rng(seed)
    done = 0
    while done < count:
        n = min(chunk, count - done)
        rows = (rng.standard_normal((n, real.shape[1])) @ factor.T + mean).astype(np.float32)
        yield rows / np.linalg.norm(rows, axis=1, keepdims=True)
        done += n


def build_data(real_gallery: Matrix, probes: Matrix, model_id: str, size: int) -> BenchData:
    """The gallery of ``size`` rows (filled in place, no second copy) and each probe's exact
    nearest row (inner product over every row, in chunks)."""
    real = real_gallery[:size]
    gallery = np.empty((size, real.shape[1]), np.float32)
    gallery[:len(real)] = real
    at = len(real)
    for chunk in gaussian_distractors(np.concatenate([real_gallery, probes]), size - len(real)):
        gallery[at:at + len(chunk)] = chunk
        at += len(chunk)
    best = np.full(len(probes), -np.inf, np.float32)
    top = np.zeros(len(probes), np.int64)
    for start in range(0, size, 100_000):
        scores = probes @ gallery[start:start + 100_000].T
        arg = scores.argmax(axis=1)
        value = scores[np.arange(len(probes)), arg]
        better = value > best
        best[better], top[better] = value[better], arg[better] + start
    return BenchData(model_id, gallery, len(real), probes, top)


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"p50": float(np.percentile(array, 50)), "p95": float(np.percentile(array, 95)),
            "mean": float(array.mean())}


def template_id(row: int) -> str:
    return f"tpl_{row:09d}"


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
