"""Migration ``identity_0003`` on both engines: a database made before boarding fares gets the
departure's fare currency and the ticket's fare payment; a new one already has them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.provision import scratch_database

pytestmark = pytest.mark.integration
ADDED = {"departures": "fare_currency", "tickets": "fare_payment_id"}


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path, pg, migrate=False) as url:
        built = make_engine(url)
        yield built
        built.dispose()


def has(engine: Engine, table: str, column: str) -> bool:
    return column in {c["name"] for c in inspect(engine).get_columns(table)}


def test_a_database_made_before_fares_gets_their_columns(engine: Engine) -> None:
    upgrade_engine(engine, "identity_0002")
    with engine.begin() as conn:  # as identity_0002 left a database before fares existed
        for table, column in ADDED.items():
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    assert not any(has(engine, t, c) for t, c in ADDED.items())
    upgrade_engine(engine)
    assert all(has(engine, t, c) for t, c in ADDED.items())
    upgrade_engine(engine)  # at head: nothing to do, nothing fails


def test_a_new_database_has_them(engine: Engine) -> None:
    upgrade_engine(engine)
    assert all(has(engine, t, c) for t, c in ADDED.items())
