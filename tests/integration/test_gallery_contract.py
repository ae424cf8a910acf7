"""One contract every gallery adapter passes (FAISS + SQL change log, pgvector, Milvus): add,
search, search among candidates, remove with immediate invisibility, two workers (two adapter
instances on one database or server) seeing each other's changes, the duplicate check.
Real servers: PostgreSQL with pgvector, a Milvus 2.3 standalone server started here."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gallery import Gallery, GalleryEntry
from support import require

pytestmark = pytest.mark.integration

DIM = 64
SCOPE = Scope("ten_a", False)
OTHER = Scope("ten_b", False)


def unit_rows(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def entries(vectors: np.ndarray, scope: Scope = SCOPE, model: str = "m1", tag: str = "a",
            purpose: str = "pay") -> list[GalleryEntry]:
    return [GalleryEntry(f"tpl_{tag}{i}", scope, f"cus_{tag}{i}", model, vectors[i],
                         purpose=purpose) for i in range(len(vectors))]


@pytest.fixture(scope="module")
def milvus_url() -> Iterator[str]:
    try:
        from milvus import MilvusServer
    except ImportError:
        require(False, "the milvus package (pip install milvus==2.3.5)")
    server = MilvusServer()
    with tempfile.TemporaryDirectory(prefix="milvus_") as base:
        server.set_base_dir(base)
        server.config.set("proxy.timeTickInterval", 20)  # Strong reads wait one tick
        try:
            server.start()
        except Exception as exc:
            require(False, f"a Milvus standalone server ({type(exc).__name__}: {exc})")
        try:
            yield f"http://127.0.0.1:{server.listen_port}"
        finally:
            server.stop()


def _sql_pair(kind: str, tmp: Path, postgres_url: str | None) -> Iterator[tuple[Any, Any]]:
    from smilepay.adapters.crypto import AesGcmKeyRing
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.migrate import upgrade_database
    from smilepay.adapters.sql.provision import scratch_database

    with scratch_database(kind, tmp, postgres_url, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        engines = [make_engine(url), make_engine(url)]
        try:
            if kind == "sqlite":
                from smilepay.adapters.gallery.faiss_gallery import FaissGallery

                keys = AesGcmKeyRing.generate()
                yield tuple(FaissGallery(e, keys, cache_dir=tmp / "cache", snapshot_every=1)
                            for e in engines)
            else:
                from smilepay.adapters.gallery.pgvector_gallery import PgvectorGallery

                yield PgvectorGallery(engines[0]), PgvectorGallery(engines[1])
        finally:
            for e in engines:
                e.dispose()


@pytest.fixture(params=["faiss", "pgvector", "milvus"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Gallery, Gallery]]:
    """Two adapter instances ("workers") on one database or server."""
    if request.param == "faiss":
        yield from _sql_pair("sqlite", tmp_path, None)
    elif request.param == "pgvector":
        yield from _sql_pair("postgres", tmp_path, request.getfixturevalue("postgres_url"))
    else:
        from smilepay.adapters.gallery.milvus_gallery import MilvusGallery

        url = request.getfixturevalue("milvus_url")
        prefix = f"t{secrets.token_hex(4)}"
        first, second = MilvusGallery(url, prefix=prefix), MilvusGallery(url, prefix=prefix)
        yield first, second
        first.drop_all()
        first.close()
        second.close()


def test_add_then_search_finds_nearest_within_scope_and_model(pair: tuple[Gallery, Gallery]
                                                              ) -> None:
    g, _ = pair
    vectors = unit_rows(30, 1)
    g.add(entries(vectors))
    g.add(entries(vectors[:5], scope=OTHER, tag="o"))
    g.add(entries(vectors[:5], model="m2", tag="m"))
    hits = g.search(SCOPE, "m1", vectors[7], 5)
    assert hits[0].template_id == "tpl_a7"
    assert hits[0].customer_id == "cus_a7" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    exact = np.argsort(-(vectors @ vectors[7]))[:5]
    assert [h.template_id for h in hits] == [f"tpl_a{i}" for i in exact]
    assert all(h.template_id.startswith("tpl_a") for h in hits)  # no other scope or model
    assert g.size(SCOPE, "m1") == 30 and g.size(SCOPE) == 35 and g.size(OTHER) == 5


def test_search_among_candidates_is_exact_and_limited(pair: tuple[Gallery, Gallery]) -> None:
    g, _ = pair
    vectors = unit_rows(40, 2)
    g.add(entries(vectors[:30]))
    g.add(entries(vectors[30:], purpose="verify", tag="v"))  # 1:1 only
    probe = vectors[3]
    among = [f"tpl_a{i}" for i in (5, 9, 12, 20)] + ["tpl_v1", "tpl_nothere"]
    hits = g.search_among(SCOPE, "m1", probe, 3, among)
    pool = {f"tpl_a{i}": vectors[i] for i in (5, 9, 12, 20)} | {"tpl_v1": vectors[31]}
    expected = sorted(pool, key=lambda t: -float(pool[t] @ probe))[:3]
    assert [h.template_id for h in hits] == expected
    assert "tpl_a3" not in {h.template_id for h in hits}
    assert g.search_among(OTHER, "m1", probe, 3, among) == []
    assert "tpl_v0" not in {h.template_id for h in g.search(SCOPE, "m1", vectors[30], 5)}


def test_remove_is_invisible_at_once_on_every_worker(pair: tuple[Gallery, Gallery]) -> None:
    first, second = pair
    vectors = unit_rows(20, 3)
    first.add(entries(vectors))
    assert second.search(SCOPE, "m1", vectors[4], 1)[0].template_id == "tpl_a4"
    assert second.remove(OTHER, ["tpl_a4"]) == 0  # another tenant cannot erase it
    assert second.remove(SCOPE, ["tpl_a4", "tpl_a5", "tpl_zz"]) == 2
    for worker in (second, first):
        found = {h.template_id for h in worker.search(SCOPE, "m1", vectors[4], 20)}
        assert "tpl_a4" not in found and "tpl_a5" not in found and len(found) == 18
        assert worker.search_among(SCOPE, "m1", vectors[4], 5, ["tpl_a4", "tpl_a5"]) == []


def test_a_change_on_one_worker_is_seen_by_the_other_within_a_second(
        pair: tuple[Gallery, Gallery]) -> None:
    first, second = pair
    vectors = unit_rows(10, 4)
    first.add(entries(vectors[:9]))
    second.search(SCOPE, "m1", vectors[0], 1)  # warm: collections loaded, caught up
    started = time.perf_counter()
    second.add(entries(vectors[9:], tag="late"))
    hit = first.search(SCOPE, "m1", vectors[9], 1)[0]
    assert hit.template_id == "tpl_late0"
    assert time.perf_counter() - started < 1.0


def test_duplicate_check_refuses_the_same_face_on_another_account(
        pair: tuple[Gallery, Gallery]) -> None:
    first, second = pair
    vectors = unit_rows(3, 5)
    assert first.add_unless_duplicate(entries(vectors[:1])[0], 0.9) is None
    twin = GalleryEntry("tpl_twin", SCOPE, "cus_other", "m1", vectors[0])
    found = second.add_unless_duplicate(twin, 0.9)
    assert found is not None and found.customer_id == "cus_a0"
    again = GalleryEntry("tpl_again", SCOPE, "cus_a0", "m1", vectors[0])
    assert second.add_unless_duplicate(again, 0.9) is None  # the owner re-enrolling
    assert first.size(SCOPE, "m1") == 2


def test_bad_input_is_refused(pair: tuple[Gallery, Gallery]) -> None:
    g, _ = pair
    vectors = unit_rows(2, 6)
    g.add(entries(vectors[:1]))
    with pytest.raises(InvalidInput):
        g.add(entries(vectors[:1]))  # the same template id again
    with pytest.raises(InvalidInput):
        g.add([GalleryEntry("tpl_x1", SCOPE, "cus_x", "m1", vectors[1] * 2)])  # not unit
    with pytest.raises(InvalidInput):
        g.add([GalleryEntry("tpl x';--", SCOPE, "cus_x", "m1", vectors[1])])
    with pytest.raises(InvalidInput):
        g.search(SCOPE, "m1", vectors[0], 0)
    with pytest.raises(InvalidInput):
        g.search_among(SCOPE, "m1", vectors[0], 1, ['tpl_a0" or 1==1'])
