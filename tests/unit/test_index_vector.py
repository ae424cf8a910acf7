"""The VectorIndex contract, run on the FAISS adapter (exact and IVF) and the in-memory fake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from smilepay.adapters.faiss_index import FaissIndex, IndexFileCorrupt
from smilepay.adapters.memory_index import InMemoryVectorIndex
from smilepay.errors import InvalidInput
from smilepay.ports.identity import VectorIndex

DIM = 32


def unit_rows(n: int, seed: int) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, DIM))
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)


MAKERS: dict[str, Callable[[], VectorIndex]] = {
    "memory": lambda: InMemoryVectorIndex(DIM),
    "faiss_exact": lambda: FaissIndex(DIM),
    "faiss_ivf": lambda: FaissIndex(DIM, exact_below=50, nprobe=64),
}


@pytest.fixture(params=sorted(MAKERS))
def gallery(request: pytest.FixtureRequest) -> VectorIndex:
    index = MAKERS[request.param]()
    x = unit_rows(200, 0)
    index.add([f"tpl_{i}" for i in range(200)], list(x))
    return index


def test_each_template_finds_itself_first_with_score_one(gallery: VectorIndex) -> None:
    x = unit_rows(200, 0)
    for i in (0, 57, 199):
        hits = gallery.search(x[i], 5)
        assert hits[0].template_id == f"tpl_{i}"
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_limited_to_a_candidate_set_returns_only_those(gallery: VectorIndex) -> None:
    x = unit_rows(200, 0)
    allowed = {"tpl_3", "tpl_140", "tpl_77", "not_there"}
    hits = gallery.search(x[0], 10, restrict_to=allowed)
    assert {h.template_id for h in hits} == {"tpl_3", "tpl_140", "tpl_77"}
    expected = sorted(allowed - {"not_there"}, key=lambda t: -float(x[int(t[4:])] @ x[0]))
    assert [h.template_id for h in hits] == expected
    assert gallery.search(x[0], 10, restrict_to=set()) == []


def test_deletion_is_immediate(gallery: VectorIndex) -> None:
    x = unit_rows(200, 0)
    assert gallery.remove(["tpl_5", "tpl_6", "nope"]) == 2
    assert "tpl_5" not in gallery and len(gallery) == 198
    assert all(h.template_id not in {"tpl_5", "tpl_6"} for h in gallery.search(x[5], 200))
    assert gallery.search(x[5], 3, restrict_to={"tpl_5"}) == []


def test_a_duplicate_id_or_a_wrong_dimension_is_refused(gallery: VectorIndex) -> None:
    with pytest.raises(InvalidInput, match="twice"):
        gallery.add(["tpl_1"], [unit_rows(1, 9)[0]])
    with pytest.raises(InvalidInput, match=f"{DIM}-d"):
        gallery.add(["tpl_new"], [np.ones(DIM + 1, np.float32)])


def test_faiss_switches_to_ivf_at_the_configured_size() -> None:
    index = FaissIndex(DIM, exact_below=100)
    x = unit_rows(150, 1)
    index.add([f"t{i}" for i in range(99)], list(x[:99]))
    assert index.kind == "exact"
    index.add([f"t{i}" for i in range(99, 150)], list(x[99:]))
    assert index.kind == "ivf" and len(index) == 150
    assert index.search(x[120], 1, restrict_to={"t120", "t3"})[0].template_id == "t120"
    assert np.allclose(index.vectors(["t7"])[0], x[7])


@pytest.mark.parametrize("exact_below", [10_000, 50])
def test_faiss_saves_atomically_and_loads_the_same_answers(
    tmp_path: Path, exact_below: int
) -> None:
    index = FaissIndex(DIM, exact_below=exact_below)
    x = unit_rows(120, 2)
    index.add([f"t{i}" for i in range(120)], list(x))
    index.remove(["t0"])
    path = tmp_path / "idx" / "acct_a.faiss.npz"
    index.save(path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    loaded = FaissIndex.load(path, exact_below=exact_below)
    assert loaded.kind == index.kind and len(loaded) == 119 and "t0" not in loaded
    assert loaded.search(x[9], 3) == index.search(x[9], 3)
    loaded.add(["t_new"], [x[0]])
    assert loaded.search(x[0], 1)[0].template_id == "t_new"


def test_a_damaged_index_file_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not an index")
    with pytest.raises(IndexFileCorrupt):
        FaissIndex.load(path)


def test_rebuild_replaces_the_contents_from_the_store() -> None:
    index = FaissIndex(DIM, exact_below=30)
    x = unit_rows(40, 3)
    index.add(["stale"], [x[0]])
    assert index.rebuild((f"t{i}", x[i]) for i in range(40)) == 40
    assert "stale" not in index and index.kind == "ivf"
    assert index.search(x[33], 1)[0].template_id == "t33"
