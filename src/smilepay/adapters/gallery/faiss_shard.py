"""One FAISS index: the templates of one scope, model and purpose, in this process.

Exact (``IndexFlatIP``) below ``ivf_from`` templates. At or above: an inverted file whose
lists hold 4-bit product-quantised codes scanned with SIMD (``IndexIVFPQFastScan``, d/4
sub-quantisers, 88 bytes for a 704-d vector), which shortlists ``SHORTLIST`` candidates that
are then re-ranked exactly against the float32 vectors kept beside it. IVF-Flat reached only
recall@1 0.967 at 22 ms on 1M real-plus-distractor faces (docs/performance.md): the true
neighbour of a face is often in a list far down the order, so many lists must be scanned, and
fast-scan codes make scanning a quarter of them cost a few milliseconds.

Training is k-means on at most ``TRAIN_PER_LIST`` vectors per list (a 1M gallery trains in
minutes, not hours), redone when the shard has grown fourfold. ``nprobe`` 0 means "scan
``PROBE_SHARE`` of the lists" (at 1M: 22.5% gave recall@1 0.997 at 7.4 ms p50, 15% only
0.980). A search among candidates is exact whatever the index. Removed vectors are zeroed
in the float32 store as well as dropped from the index.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import faiss
import numpy as np

from smilepay.errors import InvalidInput

TRAIN_PER_LIST = 40
SHORTLIST = 100
PROBE_SHARE = 0.25
Matrix32 = np.ndarray[Any, np.dtype[np.float32]]
Ids = np.ndarray[Any, np.dtype[np.int64]]


def ivf_lists_for(n: int) -> int:
    return max(1, min(65_536, n // TRAIN_PER_LIST, int(2 * math.sqrt(max(n, 1)))))


class Shard:
    def __init__(self, dim: int, *, ivf_from: int = 50_000, nprobe: int = 0) -> None:
        if dim < 1 or ivf_from < 1 or nprobe < 0:
            raise InvalidInput(f"expected dim, ivf_from >= 1 and nprobe >= 0, got {dim}, "
                               f"{ivf_from}, {nprobe}")
        self.dim, self.ivf_from, self.nprobe = dim, ivf_from, nprobe
        self.ids: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.owners: dict[int, str] = {}
        self.next_id = 0
        self.trained_at = 0
        self.store: Matrix32 = np.zeros((0, dim), np.float32)  # row = number; zero = removed
        self.index: Any = faiss.IndexIDMap(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        return "ivf_pq_fastscan" if isinstance(self.index, faiss.IndexIVF) else "exact"

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
        self._store(numbers, matrix)
        n = len(self.ids)
        if n >= self.ivf_from and (self.kind == "exact" or n >= 4 * self.trained_at) \
                and self.dim % 4 == 0:
            self._retrain()
        else:
            self.index.add_with_ids(matrix, numbers)

    def remove(self, template_ids: Iterable[str]) -> int:
        numbers = [self.ids.pop(t) for t in set(template_ids) if t in self.ids]
        for num in numbers:
            del self.names[num]
            del self.owners[num]
            self.store[num] = 0.0
        if numbers:
            self.index.remove_ids(faiss.IDSelectorArray(np.array(numbers, np.int64)))
        return len(numbers)

    def lists_probed(self) -> int:
        nlist = int(getattr(self.index, "nlist", 1))
        wanted = self.nprobe or math.ceil(PROBE_SHARE * nlist)
        return max(1, min(wanted, nlist))

    def search(self, query: Matrix32, k: int) -> list[tuple[str, str, float]]:
        k = min(k, len(self.ids))
        if k < 1:
            return []
        if self.kind == "exact":
            scores, found = self.index.search(query, k)
            pairs = [(int(n), float(s)) for s, n in zip(scores[0], found[0], strict=True)]
        else:
            self.index.nprobe = self.lists_probed()
            _, found = self.index.search(query, max(SHORTLIST, 10 * k))
            shortlist = found[0][(found[0] >= 0)]
            exact = self.store[shortlist] @ query[0]
            order = np.argsort(-exact, kind="stable")[:k]
            pairs = [(int(shortlist[i]), float(exact[i])) for i in order.tolist()]
        return [(self.names[n], self.owners[n], s) for n, s in pairs if n in self.names]

    def search_among(self, query: Matrix32, k: int,
                     template_ids: Collection[str]) -> list[tuple[str, str, float]]:
        numbers = [self.ids[t] for t in template_ids if t in self.ids]
        if not numbers or k < 1:
            return []
        scores = self.store[numbers] @ query[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.names[numbers[i]], self.owners[numbers[i]], float(scores[i]))
                for i in order.tolist()]

    def live(self) -> tuple[Ids, Matrix32]:
        """The numbers and float32 vectors of every template present."""
        numbers = np.array(sorted(self.names), np.int64)
        return numbers, self.store[numbers]

    def restore(self, numbers: Ids, vectors: Matrix32) -> None:
        """Refill the float32 store (from a snapshot)."""
        self.store = np.zeros((self.next_id, self.dim), np.float32)
        self.store[numbers] = vectors

    def _store(self, numbers: Ids, matrix: Matrix32) -> None:
        top = int(numbers[-1]) + 1
        if top > len(self.store):
            grown = np.zeros((max(top, 2 * len(self.store)), self.dim), np.float32)
            grown[:len(self.store)] = self.store
            self.store = grown
        self.store[numbers] = matrix

    def _retrain(self) -> None:
        numbers, matrix = self.live()
        nlist = ivf_lists_for(len(matrix))
        rng = np.random.default_rng(len(matrix))
        take = min(len(matrix), nlist * TRAIN_PER_LIST)
        sample = matrix[rng.choice(len(matrix), take, replace=False)] if take < len(matrix) \
            else matrix
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFPQFastScan(quantizer, self.dim, nlist, self.dim // 4, 4,
                                       faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 12
        ivf.train(np.ascontiguousarray(sample))
        ivf.add_with_ids(np.ascontiguousarray(matrix), numbers)
        self.index, self.trained_at = ivf, len(matrix)
