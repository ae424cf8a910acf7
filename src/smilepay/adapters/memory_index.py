"""``InMemoryVectorIndex``: the exact-search fake of the ``VectorIndex`` port (numpy only)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np

from smilepay.domain.identity import Candidate
from smilepay.domain.templates import Vector
from smilepay.errors import InvalidInput


class InMemoryVectorIndex:
    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise InvalidInput(f"expected a dimension >= 1, got {dim}")
        self._dim = dim
        self._vectors: dict[str, Vector] = {}

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._vectors

    def add(self, template_ids: Sequence[str], vectors: Sequence[Vector]) -> None:
        if len(template_ids) != len(vectors):
            raise InvalidInput(f"expected {len(template_ids)} vectors, got {len(vectors)}")
        for tid, vec in zip(template_ids, vectors, strict=True):
            arr = np.asarray(vec, dtype=np.float32)
            if arr.shape != (self._dim,):
                raise InvalidInput(f"expected a {self._dim}-d vector, got shape {arr.shape}")
            if tid in self._vectors:
                raise InvalidInput(f"expected a new template id, got {tid!r} twice")
            self._vectors[tid] = arr

    def remove(self, template_ids: Iterable[str]) -> int:
        removed = 0
        for tid in template_ids:
            if self._vectors.pop(tid, None) is not None:
                removed += 1
        return removed

    def search(
        self, query: Vector, k: int, *, restrict_to: Collection[str] | None = None
    ) -> list[Candidate]:
        ids = list(self._vectors) if restrict_to is None else [
            t for t in restrict_to if t in self._vectors
        ]
        if not ids or k < 1:
            return []
        matrix = np.stack([self._vectors[t] for t in ids])
        scores = matrix @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Candidate(ids[i], float(scores[i])) for i in order]
