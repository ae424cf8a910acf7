"""Migration ``gallery_0001``: the pgvector table only where the extension is, and a clear
failure when the pgvector gallery is asked for without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from smilepay.adapters.gallery.schema import PgvectorMissing
from smilepay.adapters.sql.migrate import upgrade_database
from smilepay.adapters.sql.provision import scratch_database

pytestmark = pytest.mark.integration


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_gets_the_log_and_sessions_but_no_pgvector_table(tmp_path: Path) -> None:
    with scratch_database("sqlite", tmp_path, None, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        found = tables(url)
    assert {"gallery_changes", "gallery_vectors", "shared_sessions"} <= found
    assert "gallery_pgvector" not in found


def test_asking_for_pgvector_without_the_extension_fails_with_a_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMILEPAY_GALLERY", "pgvector")
    with scratch_database("sqlite", tmp_path, None, migrate=False) as url, \
            pytest.raises(PgvectorMissing, match=r"install-pgvector\.sh"):
        upgrade_database(url, "gallery@head")


def test_postgres_with_the_extension_gets_the_pgvector_table(postgres_url: str,
                                                             tmp_path: Path) -> None:
    with scratch_database("postgres", tmp_path, postgres_url, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        found = tables(url)
    assert {"gallery_changes", "gallery_vectors", "shared_sessions", "gallery_pgvector"} <= found
