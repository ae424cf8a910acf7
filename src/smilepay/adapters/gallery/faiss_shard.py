"""One FAISS index: the templates of one scope, model and purpose, in this process.

Exact (``IndexFlatIP``) below ``ivf_from`` templates; at or above, an inverted file
(``IndexIVFFlat``) trained on a sample of the shard (k-means on at most ``TRAIN_PER_LIST``
vectors per list, so a 1M gallery trains in seconds, not hours), retrained when the shard has
grown fourfold since. ``nprobe`` lists are scanned per query: chosen from measured recall on
real face embeddings (docs/performance.md). A search among candidates is exact whatever the
index: their vectors are reconstructed (direct map) and compared directly.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import faiss
import numpy as np

from smilepay.errors import InvalidInput

TRAIN_PER_LIST = 40
_faiss: Any = faiss  # the swig stubs miss DirectMap and keyword arguments
Matrix32 = np.ndarray[Any, np.dtype[np.float32]]


def ivf_lists_for(n: int) -> int:
    return max(1, min(65_536, n // 39, int(4 * math.sqrt(max(n, 1)))))


class Shard:
    def __init__(self, dim: int, *, ivf_from: int = 50_000, nprobe: int = 48) -> None:
        if dim < 1 or ivf_from < 1 or nprobe < 1:
            raise InvalidInput(f"expected dim, ivf_from, nprobe >= 1, got {dim}, {ivf_from}, "
                               f"{nprobe}")
        self.dim, self.ivf_from, self.nprobe = dim, ivf_from, nprobe
        self.ids: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.owners: dict[int, str] = {}
        self.next_id = 0
        self.trained_at = 0
        self.index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "exact"

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, template_ids: Sequence[str], customer_ids: Sequence[str],
            matrix: Matrix32) -> None:
        """Add new templates (ids already present are skipped: replaying a change is safe)."""
        keep = [i for i, t in enumerate(template_ids) if t not in self.ids]
        if not keep:
            return
        if len(keep) < len(template_ids):  # (no copy of a big first batch otherwise)
            matrix = matrix[keep]
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        numbers = np.arange(self.next_id, self.next_id + len(keep), dtype=np.int64)
        self.next_id += len(keep)
        for i, num in zip(keep, numbers.tolist(), strict=True):
            self.ids[template_ids[i]] = num
            self.names[num] = template_ids[i]
            self.owners[num] = customer_ids[i]
        n = len(self.ids)
        if n >= self.ivf_from and (self.kind == "exact" or n >= 4 * self.trained_at):
            self._retrain(numbers, matrix)
        else:
            self.index.add_with_ids(matrix, numbers)

    def remove(self, template_ids: Iterable[str]) -> int:
        numbers = [self.ids.pop(t) for t in set(template_ids) if t in self.ids]
        for num in numbers:
            del self.names[num]
            del self.owners[num]
        if numbers:
            self.index.remove_ids(faiss.IDSelectorArray(np.array(numbers, np.int64)))
        return len(numbers)

    def search(self, query: Matrix32, k: int) -> list[tuple[str, str, float]]:
        k = min(k, len(self.ids))
        if k < 1:
            return []
        if self.kind == "ivf":
            self.index.nprobe = min(self.nprobe, self.index.nlist)
        scores, found = self.index.search(query, k)
        return [(self.names[int(n)], self.owners[int(n)], float(s))
                for s, n in zip(scores[0], found[0], strict=True)
                if n >= 0 and int(n) in self.names]

    def search_among(self, query: Matrix32, k: int,
                     template_ids: Collection[str]) -> list[tuple[str, str, float]]:
        numbers = [self.ids[t] for t in template_ids if t in self.ids]
        if not numbers or k < 1:
            return []
        vectors = np.stack([self.index.reconstruct(n) for n in numbers])
        scores = vectors @ query[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.names[numbers[i]], self.owners[numbers[i]], float(scores[i]))
                for i in order.tolist()]

    def all_vectors(self) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Matrix32]:
        numbers = np.array(sorted(self.names), np.int64)
        if numbers.size == 0:
            return numbers, np.zeros((0, self.dim), np.float32)
        return numbers, np.stack([self.index.reconstruct(int(n)) for n in numbers])

    def _retrain(self, new_numbers: np.ndarray[Any, np.dtype[np.int64]],
                 new_matrix: Matrix32) -> None:
        old_numbers, old_matrix = self._existing()
        if len(old_numbers):
            numbers = np.concatenate([old_numbers, new_numbers])
            matrix = np.ascontiguousarray(np.concatenate([old_matrix, new_matrix]), np.float32)
        else:
            numbers, matrix = new_numbers, new_matrix
        nlist = ivf_lists_for(len(matrix))
        rng = np.random.default_rng(len(matrix))
        take = min(len(matrix), nlist * TRAIN_PER_LIST)
        sample = matrix[rng.choice(len(matrix), take, replace=False)] if take < len(matrix) \
            else matrix
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 12
        ivf.cp.max_points_per_centroid = TRAIN_PER_LIST
        ivf.train(np.ascontiguousarray(sample))
        ivf.set_direct_map_type(_faiss.DirectMap.Hashtable)
        ivf.add_with_ids(matrix, numbers)
        self.index, self.trained_at = ivf, len(matrix)

    def _existing(self) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Matrix32]:
        if self.index.ntotal == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        if self.kind == "exact":
            numbers = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            return numbers, self.index.index.reconstruct_n(0, self.index.ntotal)
        return self.all_vectors()
