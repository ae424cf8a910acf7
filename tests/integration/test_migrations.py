"""Alembic on both engines: an empty database goes to head, and a database made before the
face-challenge index existed gets it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.provision import scratch_database

pytestmark = pytest.mark.integration
INDEX = "ix_face_challenges_subject"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path, pg, migrate=False) as url:
        built = make_engine(url)
        yield built
        built.dispose()


def challenge_indexes(engine: Engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("face_challenges")}


def test_a_new_database_reaches_head_with_the_challenge_subject_index(engine: Engine) -> None:
    upgrade_engine(engine)  # 0002 already made the index from the schema: 0003 keeps it
    assert INDEX in challenge_indexes(engine)


def test_a_database_made_before_the_index_gets_it(engine: Engine) -> None:
    upgrade_engine(engine, "0002_identity")
    with engine.begin() as conn:  # as 0002 left a database before the schema declared it
        conn.execute(text(f"DROP INDEX {INDEX}"))
    assert INDEX not in challenge_indexes(engine)
    upgrade_engine(engine)
    assert INDEX in challenge_indexes(engine)
