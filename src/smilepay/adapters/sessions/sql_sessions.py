"""``SqlSessionStore``: shared sessions in the SQL database (SQLite or PostgreSQL), for a
deployment without Redis. One row per (kind, key): JSON, a version, an expiry in ms. Expired
rows read as absent and are deleted on the next ``put``; compare-and-set is one conditional
UPDATE (the row count says whether it won)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from smilepay.adapters.sessions.schema import shared_sessions
from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.ports.sessions import (
    Json,
    Versioned,
    check_key,
    check_ttl,
    decode_session,
    encode_session,
    update_by_versions,
)

S = shared_sessions.c


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlSessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def put(self, kind: str, key: str, value: Json, ttl_s: float) -> int:
        check_key(kind, key)
        check_ttl(ttl_s)
        text_value = encode_session(value)

        def work(conn: Connection) -> int:
            now = _now_ms()
            conn.execute(delete(shared_sessions).where(S.expires_at_ms <= now))
            found = conn.execute(select(S.version).where(
                (S.kind == kind) & (S.key == key))).scalar()
            version = int(found or 0) + 1
            row = {"value_json": text_value, "version": version,
                   "expires_at_ms": now + int(ttl_s * 1000)}
            if found is None:
                conn.execute(shared_sessions.insert().values(kind=kind, key=key, **row))
            else:
                conn.execute(update(shared_sessions).where(
                    (S.kind == kind) & (S.key == key)).values(**row))
            return version

        for _ in range(5):  # two workers creating one key: the loser re-reads and overwrites
            try:
                return self._runner.run(work, write=True)
            except IntegrityError:
                continue
        return self._runner.run(work, write=True)

    def get(self, kind: str, key: str) -> Versioned | None:
        check_key(kind, key)
        query = select(S.value_json, S.version).where(
            (S.kind == kind) & (S.key == key) & (S.expires_at_ms > _now_ms()))
        row = self._runner.run(lambda c: c.execute(query).first(), write=False)
        return None if row is None else Versioned(decode_session(row.value_json),
                                                  int(row.version))

    def replace(self, kind: str, key: str, value: Json, expected_version: int,
                ttl_s: float | None = None) -> int | None:
        check_key(kind, key)
        if ttl_s is not None:
            check_ttl(ttl_s)
        text_value = encode_session(value)
        now = _now_ms()
        values: dict[str, object] = {"value_json": text_value, "version": expected_version + 1}
        if ttl_s is not None:
            values["expires_at_ms"] = now + int(ttl_s * 1000)
        statement = update(shared_sessions).where(and_(
            S.kind == kind, S.key == key, S.version == expected_version,
            S.expires_at_ms > now)).values(**values)
        count = self._runner.run(lambda c: c.execute(statement).rowcount, write=True)
        return expected_version + 1 if count == 1 else None

    def update(self, kind: str, key: str, change: Callable[[Json], Json],
               attempts: int = 20) -> Versioned | None:
        return update_by_versions(self, kind, key, change, attempts)

    def drop(self, kind: str, key: str) -> bool:
        check_key(kind, key)
        statement = delete(shared_sessions).where((S.kind == kind) & (S.key == key))
        return bool(self._runner.run(lambda c: c.execute(statement).rowcount, write=True))

    def count(self, kind: str) -> int:
        query = select(func.count()).select_from(shared_sessions).where(
            (S.kind == kind) & (S.expires_at_ms > _now_ms()))
        return int(self._runner.run(lambda c: c.execute(query).scalar(), write=False) or 0)

    def close(self) -> None:
        return None
