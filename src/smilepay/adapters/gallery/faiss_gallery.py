"""``FaissGallery``: the gallery in process (FAISS), kept exact across worker processes.

Every add and remove writes a row to ``gallery_changes`` (and the sealed vector to, or from,
``gallery_vectors``) in the caller's transaction. Before every search the worker reads the
changes after the last one it applied (one primary-key range read, empty almost always) and
applies them, so a template erased by a committed transaction is never returned, whichever
process erased it. The on-disk snapshot (``snapshot.SnapshotFile``) is a cache: written every
``snapshot_every`` changes and on ``close`` (never per add), encrypted, and deleted by every
erasure once it commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Engine, delete, event, insert, select

from smilepay.adapters.gallery import changelog
from smilepay.adapters.gallery.faiss_shard import Matrix32, Shard
from smilepay.adapters.gallery.schema import gallery_vectors
from smilepay.adapters.gallery.snapshot import ShardKey, SnapshotFile
from smilepay.adapters.gallery.validate import (
    check_entries,
    check_query,
    check_scope_ids,
    refuse_present,
)
from smilepay.adapters.models.runtime import set_faiss_threads
from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.domain.templates import SealedBlob, Vector, pack_vector, unpack_vector
from smilepay.domain.tenants import Scope
from smilepay.ports.gallery import GalleryEntry, GalleryMatch
from smilepay.ports.identity import KeyRing

log = logging.getLogger("smilepay.gallery")
T = TypeVar("T")


def vector_aad(scope: Scope, model_id: str, template_id: str) -> bytes:
    return f"gallery|{scope.tenant_id}|{int(scope.livemode)}|{model_id}|{template_id}".encode()


class FaissGallery:
    name = "faiss"

    def __init__(self, engine: Engine, keys: KeyRing, *, cache_dir: Path | None = None,
                 ivf_from: int = 50_000, nprobe: int = 0,
                 snapshot_every: int = 50_000) -> None:
        self.engine, self.keys = engine, keys
        self.ivf_from, self.nprobe, self.snapshot_every = ivf_from, nprobe, snapshot_every
        set_faiss_threads(1)  # one query at a time per request: 2 OpenMP threads were 3x slower
        self._runner = TransactionRunner(engine)
        self._lock = threading.RLock()
        self._shards: dict[ShardKey, Shard] = {}
        self._applied = 0
        self._snapshot_seq = 0
        self.snapshot = None if cache_dir is None else SnapshotFile(
            cache_dir / "gallery.snapshot", keys)
        self._start()

    # --- writes (in the caller's transaction when ``tx`` is given) ---------------------------
    def add(self, entries: Sequence[GalleryEntry], *, tx: object | None = None) -> None:
        check_entries(entries)
        rows = [{
            "template_id": e.template_id, "tenant_id": e.scope.tenant_id,
            "livemode": e.scope.livemode, "model_id": e.model_id, "customer_id": e.customer_id,
            "purpose": e.purpose, "dim": int(e.vector.shape[0]), **self._sealed(e)}
            for e in entries]

        def work(conn: Connection) -> None:
            changelog.lock_log(conn)
            refuse_present(conn, gallery_vectors.c.template_id, [r["template_id"] for r in rows])
            conn.execute(insert(gallery_vectors), rows)
            for e in entries:
                changelog.append(conn, "add", e.scope, e.model_id, [e.template_id])

        self._in(tx, work)

    def add_unless_duplicate(self, entry: GalleryEntry, threshold: float, *,
                             tx: object | None = None) -> GalleryMatch | None:
        check_entries([entry])

        def work(conn: Connection) -> GalleryMatch | None:
            changelog.lock_log(conn)  # no other enrolment commits until this one does
            with self._lock:
                # committed changes only, on a connection of its own: this transaction's own
                # uncommitted rows (an erasure of the customer's old templates) may roll back
                self.catch_up()
                shard = self._shards.get((entry.scope, entry.model_id, "pay"))
                hits = [] if shard is None else shard.search(
                    np.ascontiguousarray(entry.vector[None, :], np.float32), 10)
            for tid, owner, score in hits:
                if owner != entry.customer_id and score >= threshold:
                    return GalleryMatch(tid, owner, score)
            self.add([entry], tx=conn)
            return None

        return self._in(tx, work)

    def remove(self, scope: Scope, template_ids: Collection[str], *,
               tx: object | None = None) -> int:
        ids = check_scope_ids(template_ids)
        if not ids:
            return 0

        def work(conn: Connection) -> int:
            changelog.lock_log(conn)
            v = gallery_vectors.c
            found = conn.execute(select(v.template_id, v.model_id).where(
                v.template_id.in_(ids) & (v.tenant_id == scope.tenant_id)
                & (v.livemode == scope.livemode))).all()
            if not found:
                return 0
            conn.execute(delete(gallery_vectors).where(
                v.template_id.in_([r.template_id for r in found])))
            for r in found:
                changelog.append(conn, "remove", scope, r.model_id, [r.template_id])
            if self.snapshot is not None:
                self.snapshot.drop()  # now, and again once committed (a snapshot in between)
                event.listen(conn, "commit", lambda _c: self._drop_snapshot(), once=True)
            return len(found)

        removed = self._in(tx, work)
        if tx is None and removed:
            self.catch_up()
        return removed

    # --- reads -----------------------------------------------------------------------------
    def search(self, scope: Scope, model_id: str, query: Vector, k: int) -> list[GalleryMatch]:
        q = check_query(query, k)
        with self._lock:
            self.catch_up()
            shard = self._shards.get((scope, model_id, "pay"))
            if shard is None or shard.dim != q.shape[1]:
                return []
            return [GalleryMatch(*hit) for hit in shard.search(q, k)]

    def search_among(self, scope: Scope, model_id: str, query: Vector, k: int,
                     template_ids: Collection[str]) -> list[GalleryMatch]:
        q = check_query(query, k)
        ids = check_scope_ids(template_ids)
        with self._lock:
            self.catch_up()
            hits: list[tuple[str, str, float]] = []
            for purpose in ("pay", "verify"):
                shard = self._shards.get((scope, model_id, purpose))
                if shard is not None and shard.dim == q.shape[1]:
                    hits.extend(shard.search_among(q, k, ids))
        hits.sort(key=lambda h: -h[2])
        return [GalleryMatch(*h) for h in hits[:k]]

    def size(self, scope: Scope, model_id: str | None = None) -> int:
        with self._lock:
            self.catch_up()
            return sum(len(s) for (sc, m, _), s in self._shards.items()
                       if sc == scope and (model_id is None or m == model_id))

    # --- catching up -------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Apply every committed change this process has not seen; how many were read."""
        done = 0
        with self._lock:
            while True:
                changes = self._runner.run(
                    lambda c: changelog.changes_since(c, self._applied), write=False)
                for change in changes:
                    self._apply(change)
                done += len(changes)
                if len(changes) < changelog.CATCH_UP_BATCH:
                    break
            if self.snapshot is not None and self._applied - self._snapshot_seq >= \
                    self.snapshot_every:
                self.save_snapshot()
        return done

    def applied(self) -> int:
        return self._applied

    def head(self) -> int:
        return self._runner.run(changelog.head, write=False)

    def save_snapshot(self) -> None:
        """Write the on-disk cache; dropped again at once if an erasure committed meanwhile."""
        if self.snapshot is None:
            return
        with self._lock, self.snapshot.locked():
            self.snapshot.write(self._applied, self._shards)
            seq = self._applied
            if self._runner.run(lambda c: changelog.removed_since(c, seq), write=False):
                self.snapshot.path.unlink(missing_ok=True)
            self._snapshot_seq = seq

    def close(self) -> None:
        if self.snapshot is not None and self._applied > self._snapshot_seq:
            self.catch_up()
            self.save_snapshot()

    # --- internals -----------------------------------------------------------------------------
    def _start(self) -> None:
        head = self._runner.run(changelog.head, write=False)
        if self.snapshot is not None:
            found = self.snapshot.read(self.ivf_from, self.nprobe)
            if found is not None and found[0] <= head:
                self._applied, self._shards = found
                self._snapshot_seq = found[0]
                self.catch_up()
                return
        # no cache: every sealed vector (as of ``head`` or later), then the log after ``head``
        rows = self._runner.run(lambda c: c.execute(select(gallery_vectors)).all(),
                                write=False)
        grouped: dict[ShardKey, list[Any]] = {}
        for r in rows:
            grouped.setdefault((Scope(r.tenant_id, bool(r.livemode)), r.model_id, r.purpose),
                               []).append(r)
        for key, group in grouped.items():
            matrix = np.stack([self._open(key[0], key[1], r.template_id, r.dim,
                                          SealedBlob(r.key_id, bytes(r.nonce),
                                                     bytes(r.ciphertext))) for r in group])
            self._shard(key, int(group[0].dim)).add(
                [r.template_id for r in group], [r.customer_id for r in group], matrix)
        self._applied = head
        self.catch_up()

    def _apply(self, change: changelog.Change) -> None:
        if change.op == "remove":
            for (scope, model_id, _), shard in self._shards.items():
                if scope == change.scope and model_id == change.model_id:
                    shard.remove([change.template_id])
        elif change.ciphertext is not None and change.nonce is not None \
                and change.key_id is not None and change.dim is not None:
            vector = self._open(change.scope, change.model_id, change.template_id, change.dim,
                                SealedBlob(change.key_id, change.nonce, change.ciphertext))
            key = (change.scope, change.model_id, change.purpose or "pay")
            self._shard(key, change.dim).add([change.template_id], [change.customer_id or ""],
                                             vector[None, :])
        self._applied = change.seq

    def _shard(self, key: ShardKey, dim: int) -> Shard:
        found = self._shards.get(key)
        if found is None:
            found = Shard(dim, ivf_from=self.ivf_from, nprobe=self.nprobe)
            self._shards[key] = found
        return found

    def _sealed(self, e: GalleryEntry) -> dict[str, Any]:
        blob = self.keys.seal(pack_vector(e.vector),
                              vector_aad(e.scope, e.model_id, e.template_id))
        return {"key_id": blob.key_id, "nonce": blob.nonce, "ciphertext": blob.ciphertext}

    def _open(self, scope: Scope, model_id: str, template_id: str, dim: int,
              blob: SealedBlob) -> Matrix32:
        plain = self.keys.open(blob, vector_aad(scope, model_id, template_id))
        return np.asarray(unpack_vector(plain, dim), np.float32)

    def _drop_snapshot(self) -> None:
        if self.snapshot is not None:
            self.snapshot.drop()

    def _in(self, tx: object | None, work: Callable[[Connection], T]) -> T:
        if tx is None:
            return self._runner.run(work, write=True)
        if not isinstance(tx, Connection):
            raise TypeError(f"expected a SQLAlchemy Connection as tx, got {type(tx).__name__}")
        return work(tx)
