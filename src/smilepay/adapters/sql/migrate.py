"""Bring a database to the newest schema with Alembic (safe to run from several processes).

Areas keep their own branch of revisions (``branch_labels``), each rooted on the money and
identity core: the store, identity gates, gallery and security tables evolve independently,
and ``heads`` (the default target) brings every branch up to date.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from smilepay.adapters.sql.engine import make_engine

_ADVISORY_LOCK = 0x5_31_1E_9A  # any fixed number: one migrator at a time per database


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("smilepay") / "migrations"))
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_engine(engine: Engine, revision: str = "heads") -> None:
    config = _alembic_config()
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        with _file_lock(Path(f"{url.database}.migrate.lock")), engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
        return
    with engine.connect() as conn:
        if url.get_backend_name() == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_LOCK})
            conn.commit()
        try:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
        finally:
            if url.get_backend_name() == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_LOCK})
                conn.commit()


def upgrade_database(url: str, revision: str = "heads") -> None:
    engine = make_engine(make_url(url).render_as_string(hide_password=False))
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()
