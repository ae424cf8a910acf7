"""Vectors of a named strategy for many files, each member model embedded once (cached)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from smilepay.evaluation.embeddings import EmbeddingCache, embed_files
from smilepay.ports.vision import Embedder, FaceDetector
from smilepay.vision.fusion import fuse_vectors
from smilepay.vision.types import Vector


class StrategyEvaluator:
    """Embeds files for strategies, loading each member embedder once and caching vectors."""

    def __init__(self, data_dir: Path, detector: FaceDetector, cache: EmbeddingCache) -> None:
        self.data_dir, self.detector, self.cache = data_dir, detector, cache
        self._embedders: dict[str, Embedder] = {}

    def embedder(self, name: str) -> Embedder:
        from smilepay.adapters.models.strategies import make_embedder

        if name not in self._embedders:
            self._embedders[name] = make_embedder(name)
        return self._embedders[name]

    def member_vectors(self, name: str, paths: Sequence[str],
                       on_file: Callable[[], None] | None = None) -> dict[str, Vector | None]:
        table = self.cache.table(name)
        if all(p in table for p in paths):
            if on_file is not None:
                for _ in paths:
                    on_file()
            return {p: table[p] for p in paths}
        vectors, _ = embed_files(self.data_dir, paths, [self.embedder(name)], self.detector,
                                 self.cache, on_file)
        return vectors[self.embedder(name).model_id]

    def strategy_vectors(self, strategy: str, paths: Sequence[str],
                         on_file: Callable[[], None] | None = None) -> dict[str, Vector | None]:
        from smilepay.adapters.models.strategies import strategy_spec

        spec = strategy_spec(strategy)
        tables = [self.member_vectors(name, paths, on_file) for name, _ in spec.members]
        weights = [w for _, w in spec.members]
        fused: dict[str, Vector | None] = {}
        for path in paths:
            parts = [t[path] for t in tables]
            if any(v is None for v in parts):
                fused[path] = None
            elif len(parts) == 1:
                fused[path] = parts[0]
            else:
                fused[path] = fuse_vectors([v for v in parts if v is not None], weights)
        return fused
