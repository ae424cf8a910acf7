"""``MilvusGallery``: the gallery on a Milvus server (2.3, through pymilvus), for galleries
beyond one database server.

One collection per vector size (``<prefix>_d<dim>``): template id (primary key), scope
(``tenant|0/1``), model, owner, purpose, the vector; HNSW on inner product. Every search and
query runs with ``consistency_level="Strong"``: under Milvus's default ("Bounded") a deleted
vector was still the top hit of the next search (../shared/docs/INFRA.md). Milvus cannot join
the caller's SQL transaction: ``remove`` deletes at once (before the caller commits, so an
erasure that rolls back leaves a template unsearchable, never the reverse), ``add`` inserts at
once, and ``add_unless_duplicate`` is serialised per process only (docs/deploy.md).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from pymilvus import Collection as MilvusCollection
from pymilvus import CollectionSchema, DataType, FieldSchema, connections, utility

from smilepay.adapters.gallery.validate import check_entries, check_query, check_scope_ids
from smilepay.domain.templates import Vector
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gallery import GalleryEntry, GalleryMatch

STRONG = "Strong"


def _scope_key(scope: Scope) -> str:
    return f"{scope.tenant_id}|{int(scope.livemode)}"


def _quoted(value: str) -> str:
    if any(c in value for c in '"\\\n') or not value.isprintable():
        raise InvalidInput(f"expected an id without quotes or backslashes, got {value!r}")
    return f'"{value}"'


def _in_list(values: Sequence[str]) -> str:
    return "[" + ",".join(_quoted(v) for v in values) + "]"


class MilvusGallery:
    name = "milvus"

    def __init__(self, uri: str, *, prefix: str = "smilepay_gallery", ef: int = 64,
                 m: int = 16, ef_construction: int = 128, alias: str | None = None) -> None:
        if not prefix.replace("_", "").isalnum():
            raise InvalidInput(f"expected a collection prefix of letters, digits, _, "
                               f"got {prefix!r}")
        self.prefix, self.ef, self.m, self.ef_construction = prefix, ef, m, ef_construction
        self.alias = alias or f"smilepay_{id(self)}"
        connections.connect(alias=self.alias, uri=uri, timeout=30)
        self._collections: dict[int, MilvusCollection] = {}
        self._lock = threading.RLock()

    def _collection(self, dim: int, create: bool) -> MilvusCollection | None:
        found = self._collections.get(dim)
        if found is not None:
            return found
        name = f"{self.prefix}_d{int(dim)}"
        with self._lock:
            if not utility.has_collection(name, using=self.alias):
                if not create:
                    return None
                schema = CollectionSchema([
                    FieldSchema("template_id", DataType.VARCHAR, is_primary=True, max_length=40),
                    FieldSchema("scope", DataType.VARCHAR, max_length=48),
                    FieldSchema("model_id", DataType.VARCHAR, max_length=80),
                    FieldSchema("customer_id", DataType.VARCHAR, max_length=40),
                    FieldSchema("purpose", DataType.VARCHAR, max_length=16),
                    FieldSchema("embedding", DataType.FLOAT_VECTOR, dim=int(dim)),
                ], description="SmilePay face gallery (rotated templates)")
                coll = MilvusCollection(name, schema, using=self.alias,
                                        consistency_level=STRONG)
                coll.create_index("embedding", {
                    "index_type": "HNSW", "metric_type": "IP",
                    "params": {"M": self.m, "efConstruction": self.ef_construction}})
            else:
                coll = MilvusCollection(name, using=self.alias, consistency_level=STRONG)
            coll.load()
            self._collections[dim] = coll
            return coll

    # --- writes ------------------------------------------------------------------------------
    def add(self, entries: Sequence[GalleryEntry], *, tx: object | None = None) -> None:
        check_entries(entries)
        by_dim: dict[int, list[GalleryEntry]] = {}
        for e in entries:
            _quoted(e.model_id)
            by_dim.setdefault(int(e.vector.shape[0]), []).append(e)
        for dim, group in by_dim.items():
            coll = self._collection(dim, create=True)
            assert coll is not None
            ids = [e.template_id for e in group]
            present = coll.query(f"template_id in {_in_list(ids)}", output_fields=["template_id"],
                                 consistency_level=STRONG)
            if present:
                raise InvalidInput(f"expected new template ids, got {present[0]['template_id']!r}"
                                   " already in the gallery")
            coll.insert([ids, [_scope_key(e.scope) for e in group],
                         [e.model_id for e in group], [e.customer_id for e in group],
                         [e.purpose for e in group],
                         np.stack([np.asarray(e.vector, np.float32) for e in group])])

    def add_unless_duplicate(self, entry: GalleryEntry, threshold: float, *,
                             tx: object | None = None) -> GalleryMatch | None:
        with self._lock:
            for hit in self.search(entry.scope, entry.model_id, entry.vector, 10):
                if hit.customer_id != entry.customer_id and hit.score >= threshold:
                    return hit
            self.add([entry])
            return None

    def remove(self, scope: Scope, template_ids: Collection[str], *,
               tx: object | None = None) -> int:
        ids = check_scope_ids(template_ids)
        removed = 0
        for dim in self._dims():
            coll = self._collection(dim, create=False)
            if coll is None or not ids:
                continue
            found = coll.query(f"template_id in {_in_list(ids)} and scope == "
                               f"{_quoted(_scope_key(scope))}", output_fields=["template_id"],
                               consistency_level=STRONG)
            gone = [r["template_id"] for r in found]
            if gone:
                coll.delete(f"template_id in {_in_list(gone)}")
                removed += len(gone)
        return removed

    # --- reads -----------------------------------------------------------------------------------
    def search(self, scope: Scope, model_id: str, query: Vector, k: int) -> list[GalleryMatch]:
        q = check_query(query, k)
        coll = self._collection(int(q.shape[1]), create=False)
        if coll is None:
            return []
        expr = (f"scope == {_quoted(_scope_key(scope))} and model_id == {_quoted(model_id)}"
                ' and purpose == "pay"')
        params = {"metric_type": "IP", "params": {"ef": max(self.ef, k)}}
        result = coll.search(q, "embedding", params, limit=k, expr=expr,
                             output_fields=["customer_id"], consistency_level=STRONG)
        return [GalleryMatch(str(hit.id), str(hit.entity.get("customer_id")),
                             float(hit.distance)) for hit in result[0]]

    def search_among(self, scope: Scope, model_id: str, query: Vector, k: int,
                     template_ids: Collection[str]) -> list[GalleryMatch]:
        q = check_query(query, k)
        ids = check_scope_ids(template_ids)
        coll = self._collection(int(q.shape[1]), create=False)
        if coll is None or not ids:
            return []
        rows: list[dict[str, Any]] = coll.query(
            f"template_id in {_in_list(ids)} and scope == {_quoted(_scope_key(scope))}"
            f" and model_id == {_quoted(model_id)}",
            output_fields=["template_id", "customer_id", "embedding"], consistency_level=STRONG)
        if not rows:
            return []
        scores = np.stack([np.asarray(r["embedding"], np.float32) for r in rows]) @ q[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [GalleryMatch(rows[i]["template_id"], rows[i]["customer_id"], float(scores[i]))
                for i in order.tolist()]

    def size(self, scope: Scope, model_id: str | None = None) -> int:
        expr = f"scope == {_quoted(_scope_key(scope))}"
        if model_id is not None:
            expr += f" and model_id == {_quoted(model_id)}"
        total = 0
        for dim in self._dims():
            coll = self._collection(dim, create=False)
            if coll is not None:
                res = coll.query(expr, output_fields=["count(*)"], consistency_level=STRONG)
                total += int(res[0]["count(*)"]) if res else 0
        return total

    def catch_up(self) -> int:
        return 0  # one shared server: nothing to apply

    def applied(self) -> int:
        return 0

    def head(self) -> int:
        return 0

    def drop_all(self) -> None:
        """Drop this prefix's collections (tests, benchmarks)."""
        for dim in self._dims():
            utility.drop_collection(f"{self.prefix}_d{dim}", using=self.alias)
        self._collections.clear()

    def close(self) -> None:
        connections.disconnect(self.alias)

    def _dims(self) -> list[int]:
        head = f"{self.prefix}_d"
        return [int(n[len(head):]) for n in utility.list_collections(using=self.alias)
                if n.startswith(head) and n[len(head):].isdigit()]
