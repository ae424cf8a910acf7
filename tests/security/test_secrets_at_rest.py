"""Issue 11, point 9, on SQLite and PostgreSQL: no raw secret is kept for idempotent replays
(a replay returns the object with the secret redacted and says so), database errors and
tracebacks in logs carry no secret, name or phone hash, and SQLite files are created 0600."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from edge_support import Edge, edge_on

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def edge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Edge]:
    yield from edge_on(request, tmp_path_factory.mktemp(f"secrets-{request.param}"))


def stored_responses(edge: Edge) -> list[bytes]:
    with edge.container.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM idempotency_keys")).mappings().all()
    return [str(dict(row)).encode() for row in rows]


def test_an_api_key_made_with_an_idempotency_key_is_not_kept_in_clear(edge: Edge) -> None:
    first = edge.client.post("/v1/api_keys", json={"kind": "secret"},
                             headers=edge.merchant("make-key-1"))
    assert first.status_code == 200, first.text
    raw = first.json()["key"]
    assert raw.startswith("sk_test_")
    replay = edge.client.post("/v1/api_keys", json={"kind": "secret"},
                              headers=edge.merchant("make-key-1"))
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["key"] is None and replay.json()["key_redacted"] is True
    assert replay.json()["id"] == first.json()["id"]
    assert all(raw.encode() not in row and raw[8:].encode() not in row
               for row in stored_responses(edge))
    # the key itself works: only its copy for replays was dropped
    assert edge.client.get("/v1/terminals",
                           headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_a_webhook_secret_made_with_an_idempotency_key_is_not_kept_in_clear(edge: Edge) -> None:
    body = {"url": "https://hooks.shop.example/smilepay"}
    first = edge.client.post("/v1/webhook_endpoints", json=body,
                             headers=edge.merchant("make-hook-1"))
    assert first.status_code == 200, first.text
    secret = first.json()["secret"]
    assert secret.startswith("whsec_")
    replay = edge.client.post("/v1/webhook_endpoints", json=body,
                              headers=edge.merchant("make-hook-1"))
    assert replay.json()["secret"] is None and replay.json()["secret_redacted"] is True
    assert replay.json()["id"] == first.json()["id"]
    assert all(secret.removeprefix("whsec_").encode() not in row
               for row in stored_responses(edge))


def test_a_database_error_logs_no_secret_name_or_hash(edge: Edge) -> None:
    """A statement the database refuses, with a webhook secret, a customer's name and a phone
    hash among its parameters: the error text and the logged traceback show none of them."""
    from smilepay.logredact import install_log_redaction

    install_log_redaction()
    secret, name = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "Ann Privatename"
    phone_hash = "ab" * 32
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("smilepay.test.redaction")
    logger.addHandler(handler)
    try:
        with edge.container.store.engine.begin() as conn:
            conn.execute(text("INSERT INTO no_such_table (a, b, c) VALUES (:a, :b, :c)"),
                         {"a": secret, "b": name, "c": phone_hash})
    except SQLAlchemyError as exc:
        assert secret not in str(exc) and name not in str(exc) and phone_hash not in str(exc)
        logger.exception("write failed with %s", secret)  # uvicorn logs such tracebacks
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "no_such_table" in logged  # the error itself is still there to debug
    for leaked in (secret.removeprefix("whsec_"), name, phone_hash):
        assert leaked not in logged, logged


def test_uvicorn_access_lines_still_format_after_redaction() -> None:
    """Redaction keeps a record's arguments as a tuple: uvicorn's access formatter unpacks
    them; a key in a logged path is redacted all the same."""
    from uvicorn.logging import AccessFormatter

    from smilepay.logredact import install_log_redaction

    install_log_redaction()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/x?k=sk_live_abcdefabcdef", "1.1", 200), None)
    line = AccessFormatter(fmt="%(message)s", use_colors=False).format(record)
    assert '"GET /v1/x?k=sk_live_[redacted] HTTP/1.1" 200' in line, line


def test_postgres_detail_lines_are_redacted(edge: Edge) -> None:
    """PostgreSQL quotes the conflicting key's value in its DETAIL line."""
    from smilepay.logredact import redact

    line = ('duplicate key value violates unique constraint "x"\nDETAIL:  Key (phone_hash)='
            '(3f2a) already exists.\nFailing row contains (cus_1, Ann, +4915112345678).')
    cleaned = redact(line)
    assert "3f2a" not in cleaned and "Ann" not in cleaned and "+4915112345678" not in cleaned
    assert "Key (phone_hash)=" in cleaned


def test_sqlite_files_are_created_0600(tmp_path: Path) -> None:
    from smilepay.adapters.sql.engine import make_engine

    old_umask = os.umask(0o022)  # a usual umask: files would be 0644 without the fix
    try:
        path = tmp_path / "fresh.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        made = [p for p in tmp_path.iterdir() if p.name.startswith("fresh.db")]
        assert any(p.name == "fresh.db-wal" for p in made), made
        for p in made:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p.name, oct(p.stat().st_mode))
        engine.dispose()
    finally:
        os.umask(old_umask)
