"""The FAISS shard (exact, then IVF), the gallery input checks and the adapter choice."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine

from smilepay.adapters.gallery.faiss_shard import Shard, ivf_lists_for
from smilepay.adapters.gallery.settings import chosen_gallery
from smilepay.adapters.gallery.validate import check_entries, check_query
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gallery import GalleryEntry
from smilepay.ports.sessions import decode_session, encode_session


def unit_rows(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_shard_turns_ivf_at_the_threshold_and_keeps_every_template() -> None:
    rows = unit_rows(3000)
    shard = Shard(32, ivf_from=2000, nprobe=64)
    ids = [f"tpl_{i}" for i in range(3000)]
    shard.add(ids[:1500], [f"cus_{i}" for i in range(1500)], rows[:1500])
    assert shard.kind == "exact"
    shard.add(ids[1500:], [f"cus_{i}" for i in range(1500, 3000)], rows[1500:])
    assert shard.kind == "ivf_pq_fastscan" and len(shard) == 3000 and shard.index.ntotal == 3000
    assert shard.index.nlist == ivf_lists_for(3000)
    found = shard.search(rows[[2500]], 1)
    assert found[0][:2] == ("tpl_2500", "cus_2500") and found[0][2] == pytest.approx(1.0)


def test_replaying_an_add_is_harmless_and_remove_is_at_once() -> None:
    rows = unit_rows(10)
    shard = Shard(32)
    shard.add(["tpl_a", "tpl_b"], ["cus_a", "cus_b"], rows[:2])
    shard.add(["tpl_a"], ["cus_a"], rows[:1])  # the same change read twice
    assert len(shard) == 2 and shard.index.ntotal == 2
    assert shard.remove(["tpl_a", "tpl_zz"]) == 1
    assert [h[0] for h in shard.search(rows[[0]], 2)] == ["tpl_b"]


def test_search_among_is_exact_even_on_ivf() -> None:
    rows = unit_rows(2500, seed=1)
    shard = Shard(32, ivf_from=1000, nprobe=1)  # one list: the plain search would miss
    shard.add([f"tpl_{i}" for i in range(2500)], [f"cus_{i}" for i in range(2500)], rows)
    pool = list(range(0, 2500, 25))
    probe = rows[[7]]
    expected = sorted(pool, key=lambda i: -float(rows[i] @ probe[0]))[:3]
    got = shard.search_among(probe, 3, [f"tpl_{i}" for i in pool])
    assert [h[0] for h in got] == [f"tpl_{i}" for i in expected]


def test_entries_and_queries_are_checked() -> None:
    v = unit_rows(1)[0]
    scope = Scope("ten_a", False)
    check_entries([GalleryEntry("tpl_ok", scope, "cus_ok", "m1", v)])
    for bad in (
        GalleryEntry("tpl_ok", scope, "cus_ok", "m1", v * 3),  # not unit length
        GalleryEntry("tpl_ok", scope, "cus_ok", "m1", np.full(32, np.nan, np.float32)),
        GalleryEntry("t", scope, "cus_ok", "m1", v),  # id too short
        GalleryEntry("tpl_ok", scope, "cus ok", "m1", v),
        GalleryEntry("tpl_ok", scope, "cus_ok", "m1", v, purpose="admin"),
    ):
        with pytest.raises(InvalidInput):
            check_entries([bad])
    with pytest.raises(InvalidInput):
        check_entries([GalleryEntry("tpl_ok", scope, "cus_ok", "m1", v)] * 2)
    with pytest.raises(InvalidInput):
        check_query(v, 1001)


def test_the_gallery_follows_the_database_unless_configured() -> None:
    sqlite = create_engine("sqlite://")
    assert chosen_gallery("", sqlite) == "faiss"
    assert chosen_gallery("Milvus", sqlite) == "milvus"
    with pytest.raises(InvalidInput):
        chosen_gallery("qdrant", sqlite)


def test_sessions_keep_json_numbers_never_bytes() -> None:
    value = {"quality": [0.5, 0.75], "steps": 2, "state": "collecting"}
    assert decode_session(encode_session(value)) == value
    with pytest.raises(InvalidInput):
        encode_session({"frame": b"\xff\xd8"})
    with pytest.raises(InvalidInput):
        encode_session({"x": float("nan")})
