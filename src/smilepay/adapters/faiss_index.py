"""``FaissIndex``: the ``VectorIndex`` port on FAISS, in process, one OpenMP thread.

Exact inner-product search (``IndexFlatIP``) below ``exact_below`` templates; an inverted-file
index (``IndexIVFFlat``, trained on the gallery itself) at or above it. Template ids (strings)
map to int64 faiss ids; deletion removes vectors at once. A search limited to a candidate set
(the customers owning a phone number) uses a faiss ``IDSelector`` and scans every list, so it
is exact whatever the index type. ``save`` writes one file atomically (temp file + rename);
``rebuild`` refills the index from the template store, which is the truth.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from smilepay.adapters.files import write_file_atomically
from smilepay.domain.identity import Candidate
from smilepay.domain.templates import Vector
from smilepay.errors import InvalidInput, SmilePayError

DEFAULT_EXACT_BELOW = 100_000
FORMAT_VERSION = 1
_faiss: Any = faiss  # the swig stubs miss keyword arguments and DirectMap


class IndexFileCorrupt(SmilePayError):
    code = "index_file_corrupt"


def _ivf_lists_for(n: int) -> int:
    return max(1, min(65_536, n, int(4 * math.sqrt(max(n, 1)))))


class FaissIndex:
    def __init__(
        self, dim: int, *, exact_below: int = DEFAULT_EXACT_BELOW, nprobe: int = 16
    ) -> None:
        if dim < 1:
            raise InvalidInput(f"expected a dimension >= 1, got {dim}")
        if exact_below < 1 or nprobe < 1:
            raise InvalidInput(f"expected exact_below and nprobe >= 1, got {exact_below}, {nprobe}")
        faiss.omp_set_num_threads(1)
        self._dim = dim
        self.exact_below = exact_below
        self.nprobe = nprobe
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._next_id = 0
        self._index: Any = self._new_flat()

    # --- the port -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._dim

    @property
    def kind(self) -> str:
        """"exact" or "ivf"."""
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "exact"

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._ids

    def add(self, template_ids: Sequence[str], vectors: Sequence[Vector]) -> None:
        if len(template_ids) != len(vectors):
            raise InvalidInput(f"expected {len(template_ids)} vectors, got {len(vectors)}")
        if not template_ids:
            return
        matrix = self._as_matrix(vectors)
        seen = set(self._ids)
        for tid in template_ids:
            if tid in seen:
                raise InvalidInput(f"expected a new template id, got {tid!r} twice")
            seen.add(tid)
        numbers = np.arange(self._next_id, self._next_id + len(template_ids), dtype=np.int64)
        self._next_id += len(template_ids)
        for tid, num in zip(template_ids, numbers.tolist(), strict=True):
            self._ids[tid] = num
            self._names[num] = tid
        if self.kind == "exact" and len(self._ids) >= self.exact_below:
            self._upgrade_to_ivf(numbers, matrix)
        else:
            self._index.add_with_ids(matrix, numbers)

    def remove(self, template_ids: Iterable[str]) -> int:
        numbers = [self._ids.pop(t) for t in set(template_ids) if t in self._ids]
        if not numbers:
            return 0
        for num in numbers:
            del self._names[num]
        removed = int(self._index.remove_ids(faiss.IDSelectorArray(np.array(numbers, np.int64))))
        return removed

    def search(
        self, query: Vector, k: int, *, restrict_to: Collection[str] | None = None
    ) -> list[Candidate]:
        if k < 1 or not self._ids:
            return []
        q = self._as_matrix([query])
        if restrict_to is not None:
            numbers = np.array([self._ids[t] for t in restrict_to if t in self._ids], np.int64)
            if numbers.size == 0:
                return []
            k = min(k, int(numbers.size))
            selector = faiss.IDSelectorBatch(numbers)
            if self.kind == "ivf":
                params: Any = _faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nlist)
            else:
                params = _faiss.SearchParameters(sel=selector)
            scores, found = self._index.search(q, k, params=params)
        else:
            k = min(k, len(self._ids))
            if self.kind == "ivf":
                self._index.nprobe = min(self.nprobe, self._index.nlist)
            scores, found = self._index.search(q, k)
        return [
            Candidate(self._names[int(n)], float(s))
            for s, n in zip(scores[0], found[0], strict=True)
            if n >= 0 and int(n) in self._names
        ]

    # --- building, persistence ------------------------------------------------------------
    def rebuild(self, entries: Iterable[tuple[str, Vector]]) -> int:
        """Replace everything with ``entries`` (from the template store); the count."""
        self._ids.clear()
        self._names.clear()
        self._next_id = 0
        self._index = self._new_flat()
        batch_ids: list[str] = []
        batch_vecs: list[Vector] = []
        for tid, vec in entries:
            batch_ids.append(tid)
            batch_vecs.append(vec)
        if batch_ids and len(batch_ids) >= self.exact_below:
            self._index = self._new_ivf(self._as_matrix(batch_vecs))
        self.add(batch_ids, batch_vecs)
        return len(self)

    def vectors(self, template_ids: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        numbers = np.array([self._ids[t] for t in template_ids], np.int64)
        return np.asarray(self._index.reconstruct_batch(numbers), dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write index and id map to one file, atomically (a reader sees old or new, never half)."""
        names = list(self._ids)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format_version=np.array([FORMAT_VERSION, self._dim, self._next_id], np.int64),
            index=faiss.serialize_index(self._index),
            template_ids=np.array(names, dtype=np.str_),
            numbers=np.array([self._ids[n] for n in names], np.int64),
        )
        write_file_atomically(path, buffer.getvalue())

    @classmethod
    def load(
        cls, path: Path, *, exact_below: int = DEFAULT_EXACT_BELOW, nprobe: int = 16
    ) -> FaissIndex:
        try:
            with np.load(path, allow_pickle=False) as data:
                version, dim, next_id = (int(v) for v in data["format_version"])
                raw_index = data["index"]
                names = [str(n) for n in data["template_ids"]]
                numbers = [int(n) for n in data["numbers"]]
        except (OSError, KeyError, ValueError) as exc:
            raise IndexFileCorrupt(f"expected a SmilePay index file at {path}, got {exc}") from exc
        if version != FORMAT_VERSION:
            raise IndexFileCorrupt(f"expected index format {FORMAT_VERSION}, got {version}")
        index = cls(dim, exact_below=exact_below, nprobe=nprobe)
        index._index = faiss.deserialize_index(raw_index)
        if index._index.ntotal != len(names):
            raise IndexFileCorrupt(
                f"expected {len(names)} vectors in {path}, got {index._index.ntotal}"
            )
        index._ids = dict(zip(names, numbers, strict=True))
        index._names = {n: t for t, n in index._ids.items()}
        index._next_id = next_id
        return index

    # --- internals --------------------------------------------------------------------------
    def _new_flat(self) -> Any:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self._dim))

    def _new_ivf(self, training: np.ndarray[Any, np.dtype[np.float32]]) -> Any:
        nlist = _ivf_lists_for(len(training))
        quantizer = faiss.IndexFlatIP(self._dim)
        ivf = faiss.IndexIVFFlat(quantizer, self._dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(training)
        ivf.set_direct_map_type(_faiss.DirectMap.Hashtable)
        return ivf

    def _upgrade_to_ivf(
        self, new_numbers: np.ndarray[Any, np.dtype[np.int64]],
        new_matrix: np.ndarray[Any, np.dtype[np.float32]],
    ) -> None:
        old_numbers = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        old_matrix = (
            self._index.index.reconstruct_n(0, self._index.ntotal)
            if self._index.ntotal else np.zeros((0, self._dim), np.float32)
        )
        numbers = np.concatenate([old_numbers, new_numbers])
        matrix = np.concatenate([old_matrix, new_matrix]).astype(np.float32)
        self._index = self._new_ivf(matrix)
        self._index.add_with_ids(matrix, numbers)

    def _as_matrix(self, vectors: Sequence[Vector]) -> np.ndarray[Any, np.dtype[np.float32]]:
        matrix = np.ascontiguousarray(np.stack([np.asarray(v) for v in vectors]), dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self._dim:
            raise InvalidInput(f"expected {self._dim}-d vectors, got shape {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise InvalidInput("expected finite vectors, got NaN or inf")
        return matrix
