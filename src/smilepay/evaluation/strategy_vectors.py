"""Vectors of a named strategy for many files, each member model embedded once (cached)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smilepay.evaluation.embeddings import EmbeddingCache, cache_key, embed_files
from smilepay.ports.vision import Embedder, FaceDetector, FaceReader
from smilepay.vision.fusion import fuse_vectors
from smilepay.vision.types import Image, Vector


class _Renamed:
    """An embedder reported under its factory name (the cache key of evaluation runs)."""

    def __init__(self, inner: Embedder, name: str) -> None:
        self.inner, self.model_id, self.dim = inner, name, inner.dim

    def embed_face(self, image: Image, landmarks5: npt.NDArray[np.float32]) -> Vector:
        return self.inner.embed_face(image, landmarks5)


class StrategyEvaluator:
    """Embeds files for strategies, loading each member embedder once and caching vectors."""

    def __init__(self, data_dir: Path, detector: FaceDetector, cache: EmbeddingCache,
                 reader: FaceReader | None = None) -> None:
        self.data_dir, self.detector, self.cache = data_dir, detector, cache
        self._reader = reader
        self._embedders: dict[str, Embedder] = {}

    def reader(self) -> FaceReader:
        if self._reader is None:
            from smilepay.adapters.models.mediapipe_analyzer import MediaPipeFaceAnalyzer

            self._reader = MediaPipeFaceAnalyzer()
        return self._reader

    def close(self) -> None:
        """Release the landmarker's native threads (when this evaluator created one)."""
        reader, self._reader = self._reader, None
        close = getattr(reader, "close", None)
        if callable(close):
            close()

    def embedder(self, name: str) -> Embedder:
        from smilepay.adapters.models.strategies import make_embedder

        if name not in self._embedders:
            self._embedders[name] = make_embedder(name)
        return self._embedders[name]

    def member_vectors(self, name: str, paths: Sequence[str], landmarks: str = "mediapipe",
                       on_file: Callable[[], None] | None = None) -> dict[str, Vector | None]:
        """Vectors of one member embedder (by its factory name), aligned on ``landmarks``."""
        reader = self.reader() if landmarks == "mediapipe" else None
        key = cache_key(name, reader)
        table = self.cache.table(key)
        if all(p in table for p in paths):
            if on_file is not None:
                for _ in paths:
                    on_file()
            return {p: table[p] for p in paths}
        named = _Renamed(self.embedder(name), name)
        vectors, _ = embed_files(self.data_dir, paths, [named], self.detector, self.cache,
                                 on_file, reader)
        return vectors[key]

    def strategy_vectors(self, strategy: str, paths: Sequence[str],
                         on_file: Callable[[], None] | None = None) -> dict[str, Vector | None]:
        from smilepay.adapters.models.strategies import strategy_spec

        spec = strategy_spec(strategy)
        tables = [self.member_vectors(name, paths, spec.landmarks, on_file)
                  for name, _ in spec.members]
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
