"""Scratch PostgreSQL schemas: a fresh, isolated database for a test module or a benchmark run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema``."""
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


def create_scratch_schema(url: str, prefix: str = "smilepay_t") -> tuple[str, str]:
    """A new empty schema; returns (schema name, URL whose connections use it)."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return schema, schema_url(url, schema)


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{quote(schema, safe="_")}" CASCADE'))
    finally:
        engine.dispose()


@contextmanager
def scratch_database(engine_kind: str, work_dir: Path, postgres_url: str | None, *,
                     migrate: bool = True) -> Iterator[str]:
    """A migrated (or, ``migrate=False``, bare), empty database for ``engine_kind`` ("sqlite" or
    "postgres"); removed after."""
    from smilepay.adapters.sql.migrate import upgrade_database

    if engine_kind == "sqlite":
        url = f"sqlite:///{work_dir / f'money_{secrets.token_hex(4)}.db'}"
        if migrate:
            upgrade_database(url)
        yield url
        return
    if engine_kind != "postgres" or postgres_url is None:
        raise ValueError(f"expected sqlite or postgres with a URL, got {engine_kind!r}")
    schema, url = create_scratch_schema(postgres_url)
    try:
        if migrate:
            upgrade_database(url)
        yield url
    finally:
        drop_schema(postgres_url, schema)
