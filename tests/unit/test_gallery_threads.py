"""The in-process gallery searches on one OpenMP thread, like every runtime on these machines."""

from __future__ import annotations

from pathlib import Path

import faiss

from smilepay.adapters.crypto import AesGcmKeyRing
from smilepay.adapters.gallery.faiss_gallery import FaissGallery
from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.migrate import upgrade_engine


def test_building_the_faiss_gallery_pins_faiss_to_one_thread(tmp_path: Path) -> None:
    faiss.omp_set_num_threads(2)
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    upgrade_engine(engine)
    try:
        FaissGallery(engine, AesGcmKeyRing.generate())
        assert faiss.omp_get_max_threads() == 1
    finally:
        engine.dispose()
