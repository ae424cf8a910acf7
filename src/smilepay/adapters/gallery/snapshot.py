"""The FAISS gallery's on-disk cache: one encrypted snapshot (shards + the sequence number it
reflects), so a worker starts from it and replays only the newer log instead of opening every
sealed vector. A cache, never the truth: unreadable, foreign or newer than the database means
it is ignored and rebuilt.

Sealed as a whole with the AES-GCM key ring (associated data ``gallery-snapshot``); written
atomically (temp file + rename) under an ``flock`` that erasure takes too (``SnapshotFile``).
"""

from __future__ import annotations

import fcntl
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from smilepay.adapters.files import write_file_atomically
from smilepay.adapters.gallery.faiss_shard import Shard
from smilepay.domain.templates import SealedBlob
from smilepay.domain.tenants import Scope
from smilepay.errors import SmilePayError
from smilepay.ports.identity import KeyRing

FORMAT = b"smilepay-gallery-snapshot-2"
ShardKey = tuple[Scope, str, str]  # scope, model id, purpose


class SnapshotFile:
    def __init__(self, path: Path, keys: KeyRing) -> None:
        self.path = path
        self.keys = keys
        self._lock_path = path.with_name(path.name + ".lock")

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def drop(self) -> None:
        """Delete the snapshot (an erasure: the file must not outlive a template)."""
        with self.locked():
            self.path.unlink(missing_ok=True)

    def write(self, seq: int, shards: dict[ShardKey, Shard]) -> None:
        """Call with ``locked()`` held."""
        arrays: dict[str, Any] = {"seq": np.array([seq], np.int64)}
        for i, ((scope, model_id, purpose), shard) in enumerate(shards.items()):
            names = list(shard.ids)
            arrays[f"k{i}"] = np.array([scope.tenant_id, str(int(scope.livemode)), model_id,
                                        purpose, str(shard.dim), str(shard.next_id),
                                        str(shard.trained_at)], dtype=np.str_)
            arrays[f"t{i}"] = np.array(names, dtype=np.str_)
            arrays[f"n{i}"] = np.array([shard.ids[n] for n in names], np.int64)
            arrays[f"c{i}"] = np.array([shard.owners[shard.ids[n]] for n in names], np.str_)
            arrays[f"x{i}"] = faiss.serialize_index(shard.index)
            numbers, vectors = shard.live()
            arrays[f"vn{i}"], arrays[f"vv{i}"] = numbers, vectors
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        blob = self.keys.seal(buffer.getvalue(), FORMAT)
        write_file_atomically(self.path, blob.key_id.encode() + b"\n" + blob.nonce
                              + blob.ciphertext, mode=0o600)

    def read(self, ivf_from: int, nprobe: int) -> tuple[int, dict[ShardKey, Shard]] | None:
        """(seq, shards), or ``None`` when absent or unreadable."""
        try:
            raw = self.path.read_bytes()
            key_id, rest = raw.split(b"\n", 1)
            plain = self.keys.open(SealedBlob(key_id.decode(), rest[:12], rest[12:]), FORMAT)
            shards: dict[ShardKey, Shard] = {}
            with np.load(io.BytesIO(plain), allow_pickle=False) as data:
                seq = int(data["seq"][0])
                i = 0
                while f"k{i}" in data:
                    tenant, live, model_id, purpose, dim, next_id, trained = (
                        str(v) for v in data[f"k{i}"])
                    shard = Shard(int(dim), ivf_from=ivf_from, nprobe=nprobe)
                    shard.index = faiss.deserialize_index(data[f"x{i}"])
                    names = [str(n) for n in data[f"t{i}"]]
                    numbers = [int(n) for n in data[f"n{i}"]]
                    owners = [str(c) for c in data[f"c{i}"]]
                    shard.ids = dict(zip(names, numbers, strict=True))
                    shard.names = dict(zip(numbers, names, strict=True))
                    shard.owners = dict(zip(numbers, owners, strict=True))
                    shard.next_id, shard.trained_at = int(next_id), int(trained)
                    shard.restore(data[f"vn{i}"], data[f"vv{i}"])
                    shards[(Scope(tenant, live == "1"), model_id, purpose)] = shard
                    i += 1
            return seq, shards
        except (OSError, ValueError, KeyError, SmilePayError, RuntimeError):
            return None
