"""Shared fixtures: where the real data, models and servers are, and how absence is handled.

Outside CI a test whose data, model or server is missing skips with a message naming what is
missing; with ``CI=true`` it fails instead, so a green CI run means everything really ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smilepay.config import get_settings
from support import require

if TYPE_CHECKING:
    from smilepay.adapters.sql.store import SqlMoneyStore


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = get_settings().data_dir
    require(path.is_dir(), f"face data at {path} (set SMILEPAY_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(
        "SMILEPAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    try:
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, connect_timeout=3):
            pass
    except Exception as exc:
        require(False, f"PostgreSQL at {url} ({type(exc).__name__})")
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def money_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    """A migrated scratch database on each engine, shared by one test module (every ledger and
    payment test runs on both)."""
    from smilepay.adapters.sql.provision import scratch_database

    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path_factory.mktemp(request.param), pg) as url:
        yield url


@pytest.fixture(scope="module")
def store(money_url: str) -> Iterator[SqlMoneyStore]:
    """The money store on ``money_url`` (each engine), shared by one test module; a test seeds
    its own merchant, whose scope keeps its objects apart from the other tests'."""
    from smilepay.adapters.sql.store import SqlMoneyStore

    built = SqlMoneyStore.from_url(money_url)
    yield built
    built.dispose()
