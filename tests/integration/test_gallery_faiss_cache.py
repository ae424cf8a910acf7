"""The FAISS gallery's change log and on-disk cache: erasure in the caller's transaction, the
snapshot never holding an erased template, a worker started from snapshot + log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from smilepay.adapters.crypto import AesGcmKeyRing
from smilepay.adapters.gallery.faiss_gallery import FaissGallery
from smilepay.adapters.sql.engine import TransactionRunner, make_engine
from smilepay.adapters.sql.migrate import upgrade_database
from smilepay.adapters.sql.provision import scratch_database
from smilepay.domain.tenants import Scope
from smilepay.ports.gallery import GalleryEntry

pytestmark = pytest.mark.integration
SCOPE = Scope("ten_a", True)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path, pg, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        built = make_engine(url)
        yield built
        built.dispose()


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, 32)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def make(engine: Engine, keys: AesGcmKeyRing, cache: Path) -> FaissGallery:
    return FaissGallery(engine, keys, cache_dir=cache, snapshot_every=10**9)


def test_snapshot_is_encrypted_and_never_holds_an_erased_template(engine: Engine,
                                                                  tmp_path: Path) -> None:
    keys, cache = AesGcmKeyRing.generate(), tmp_path / "cache"
    first, second = make(engine, keys, cache), make(engine, keys, cache)
    vectors = unit_rows(6, 1)
    first.add([GalleryEntry(f"tpl_{i}", SCOPE, f"cus_{i}", "m1", vectors[i]) for i in range(6)])
    first.catch_up()
    first.save_snapshot()
    snapshot = cache / "gallery.snapshot"
    raw = snapshot.read_bytes()
    assert b"tpl_3" not in raw and vectors[3].tobytes() not in raw  # sealed, not plain
    assert first.snapshot is not None and first.snapshot.read(50_000, 8) is not None

    # erasure inside the caller's transaction that rolls back: nothing changes
    runner = TransactionRunner(engine)

    def erase_then_fail(conn: object) -> None:
        second.remove(SCOPE, ["tpl_3"], tx=conn)
        raise RuntimeError("the enclosing use case failed")

    with pytest.raises(RuntimeError):
        runner.run(erase_then_fail)
    assert first.search(SCOPE, "m1", vectors[3], 1)[0].template_id == "tpl_3"

    first.save_snapshot()
    assert snapshot.exists()
    runner.run(lambda conn: second.remove(SCOPE, ["tpl_3"], tx=conn))  # commits
    assert not snapshot.exists()  # dropped once the erasure committed
    assert all(h.template_id != "tpl_3" for h in first.search(SCOPE, "m1", vectors[3], 6))
    first.save_snapshot()  # rewritten without it
    found = first.snapshot.read(50_000, 8) if first.snapshot else None
    assert found is not None and found[0] == first.head()
    assert all("tpl_3" not in shard.ids for shard in found[1].values())
    assert sum(len(s) for s in found[1].values()) == 5


def test_a_worker_starts_from_snapshot_plus_log(engine: Engine, tmp_path: Path) -> None:
    keys, cache = AesGcmKeyRing.generate(), tmp_path / "cache"
    first = make(engine, keys, cache)
    vectors = unit_rows(8, 2)
    first.add([GalleryEntry(f"tpl_{i}", SCOPE, f"cus_{i}", "m1", vectors[i]) for i in range(5)])
    first.catch_up()
    first.save_snapshot()
    first.add([GalleryEntry(f"tpl_{i}", SCOPE, f"cus_{i}", "m1", vectors[i])
               for i in range(5, 8)])  # after the snapshot: only in the log
    late = make(engine, keys, cache)
    assert late.applied() == late.head() == 8
    assert late.size(SCOPE, "m1") == 8
    assert late.search(SCOPE, "m1", vectors[6], 1)[0].template_id == "tpl_6"
    # a damaged snapshot is ignored, not trusted: the worker rebuilds from the table
    snapshot = cache / "gallery.snapshot"
    snapshot.write_bytes(snapshot.read_bytes()[:-10] + b"0123456789")
    rebuilt = make(engine, keys, cache)
    assert rebuilt.size(SCOPE, "m1") == 8 and rebuilt.applied() == 8


def test_sequence_numbers_follow_commit_order_across_workers(engine: Engine,
                                                              tmp_path: Path) -> None:
    import threading

    keys = AesGcmKeyRing.generate()
    workers = [make(engine, keys, tmp_path / "c"), make(engine, keys, tmp_path / "c")]
    vectors = unit_rows(40, 3)

    def enrol(w: int) -> None:
        for i in range(w, 40, 2):
            workers[w].add([GalleryEntry(f"tpl_{i}", SCOPE, f"cus_{i}", "m1", vectors[i])])
            workers[1 - w].search(SCOPE, "m1", vectors[i], 1)  # the other catches up meanwhile

    threads = [threading.Thread(target=enrol, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workers:
        assert w.size(SCOPE, "m1") == 40  # no change skipped by an out-of-order commit


def test_an_erasure_in_another_process_is_seen_by_the_next_search(tmp_path: Path) -> None:
    """Two real processes on one SQLite file: the other one enrols, then erases; this one's
    very next search sees each change."""
    import subprocess
    import sys
    import textwrap

    from smilepay.adapters.crypto import load_or_create_secrets

    secrets_file = tmp_path / "secrets.json"
    keys = load_or_create_secrets(secrets_file).key_ring
    with scratch_database("sqlite", tmp_path, None, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        here = make(make_engine(url), keys, tmp_path / "cache")
        vector = unit_rows(1, 9)[0]
        np.save(tmp_path / "v.npy", vector)
        script = textwrap.dedent(f"""
            import sys, numpy as np
            from pathlib import Path
            from smilepay.adapters.crypto import load_or_create_secrets
            from smilepay.adapters.gallery.faiss_gallery import FaissGallery
            from smilepay.adapters.sql.engine import make_engine
            from smilepay.domain.tenants import Scope
            from smilepay.ports.gallery import GalleryEntry
            keys = load_or_create_secrets(Path({str(secrets_file)!r})).key_ring
            cache = Path({str(tmp_path)!r}) / "cache"
            g = FaissGallery(make_engine({url!r}), keys, cache_dir=cache)
            scope = Scope("ten_a", True)
            if sys.argv[1] == "add":
                v = np.load({str(tmp_path / "v.npy")!r})
                g.add([GalleryEntry("tpl_other", scope, "cus_other", "m1", v)])
            else:
                g.remove(scope, ["tpl_other"])
            g.close()
        """)
        for step in ("add", "remove"):
            subprocess.run([sys.executable, "-c", script, step], check=True, timeout=120)
            hits = here.search(SCOPE, "m1", vector, 1)
            if step == "add":
                assert hits and hits[0].template_id == "tpl_other"
            else:
                assert hits == []
        snapshot = tmp_path / "cache" / "gallery.snapshot"
        if snapshot.exists():  # the other process's close() may have written one: not with it
            found = here.snapshot.read(50_000, 8) if here.snapshot else None
            assert found is not None
            assert all("tpl_other" not in s.ids for s in found[1].values())


def test_a_rolled_back_re_enrolment_changes_nothing_and_skips_no_later_change(
        engine: Engine, tmp_path: Path) -> None:
    """Re-enrolment in one transaction: erase the old template, check and add the new one.
    When it rolls back, the old template stays searchable here, and the next committed change
    (which may reuse the rolled-back sequence numbers on SQLite) is not skipped."""
    keys = AesGcmKeyRing.generate()
    gallery = make(engine, keys, tmp_path / "cache")
    vectors = unit_rows(3, 11)
    gallery.add([GalleryEntry("tpl_old", SCOPE, "cus_a", "m1", vectors[0])])
    runner = TransactionRunner(engine)

    def re_enrol_then_fail(conn: object) -> None:
        gallery.remove(SCOPE, ["tpl_old"], tx=conn)
        entry = GalleryEntry("tpl_new", SCOPE, "cus_a", "m1", vectors[1])
        assert gallery.add_unless_duplicate(entry, 0.9, tx=conn) is None
        raise RuntimeError("the enclosing use case failed")

    with pytest.raises(RuntimeError):
        runner.run(re_enrol_then_fail)
    assert gallery.search(SCOPE, "m1", vectors[0], 1)[0].template_id == "tpl_old"
    assert gallery.search_among(SCOPE, "m1", vectors[1], 1, ["tpl_new"]) == []
    gallery.add([GalleryEntry("tpl_later", SCOPE, "cus_b", "m1", vectors[2])])
    assert gallery.search(SCOPE, "m1", vectors[2], 1)[0].template_id == "tpl_later"
    assert gallery.size(SCOPE, "m1") == 2
