"""``PgvectorGallery``: the gallery in PostgreSQL (pgvector), searched in SQL with HNSW.

One table (``gallery_pgvector``) holds every scope's rotated vectors keyed by template id; an
HNSW index per dimension (a partial expression index, ``schema.ensure_pgvector_index``) serves
``search``, with ``hnsw.iterative_scan = strict_order`` so a tenant filter never starves the
result. ``search_among`` orders by an expression the index does not cover, so the planner
takes the primary key and sorts exactly. Add, remove and the duplicate check run in the
caller's transaction when ``tx`` is given: one commit enrols (or erases) and changes the
gallery, and every worker reads the same table, so there is nothing to catch up.
"""
# SQL text here is built from constants, the extension's schema name (read from the catalog)
# and int() dimensions only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from pgvector import Vector as PgVector
from sqlalchemy import Connection, Engine, String, column, event, text

from smilepay.adapters.gallery import changelog
from smilepay.adapters.gallery.schema import (
    PGVECTOR_TABLE,
    create_pgvector_table,
    ensure_pgvector_index,
    vector_schema,
)
from smilepay.adapters.gallery.validate import (
    check_entries,
    check_query,
    check_scope_ids,
    refuse_present,
)
from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.domain.templates import Vector
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.gallery import GalleryEntry, GalleryMatch

T = TypeVar("T")


def _literal(vector: Any) -> str:
    return str(PgVector(vector).to_text())


class PgvectorGallery:
    name = "pgvector"

    def __init__(self, engine: Engine, *, ef_search: int = 400, m: int = 16,
                 ef_construction: int = 64) -> None:
        if engine.dialect.name != "postgresql":
            raise InvalidInput(f"expected a PostgreSQL engine for pgvector, got "
                               f"{engine.dialect.name}")
        if not (1 <= ef_search <= 1000):
            raise InvalidInput(f"expected ef_search in 1..1000, got {ef_search}")
        self.engine, self.ef_search = engine, ef_search
        self.m, self.ef_construction = m, ef_construction
        self._runner = TransactionRunner(engine)
        self._indexed: set[int] = set()
        self._lock = threading.Lock()
        with engine.begin() as conn:
            create_pgvector_table(conn)
            self._vs = vector_schema(conn)

        @event.listens_for(engine, "connect")
        def _set_search_options(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET hnsw.ef_search = {int(self.ef_search)}")
                cur.execute("SET hnsw.iterative_scan = strict_order")
            dbapi_conn.commit()

        self.engine.pool.dispose()  # connections made before the listener lack the options

    # --- writes ----------------------------------------------------------------------------
    def add(self, entries: Sequence[GalleryEntry], *, tx: object | None = None) -> None:
        check_entries(entries)
        if not entries:
            return
        dims = {int(e.vector.shape[0]) for e in entries}
        rows = [{"t": e.template_id, "tn": e.scope.tenant_id, "l": e.scope.livemode,
                 "m": e.model_id, "c": e.customer_id, "p": e.purpose,
                 "d": int(e.vector.shape[0]), "v": _literal(e.vector)} for e in entries]

        def work(conn: Connection) -> None:
            refuse_present(conn, column("template_id", String), [e.template_id for e in entries],
                           PGVECTOR_TABLE)
            for dim in dims - self._indexed:
                ensure_pgvector_index(conn, dim, self.m, self.ef_construction)
            conn.execute(text(
                f"INSERT INTO {PGVECTOR_TABLE} (template_id, tenant_id, livemode, model_id,"
                " customer_id, purpose, dim, embedding) VALUES (:t, :tn, :l, :m, :c, :p, :d,"
                f" CAST(:v AS {self._vs}.vector))"), rows)

        self._in(tx, work)
        self._indexed.update(dims)

    def add_unless_duplicate(self, entry: GalleryEntry, threshold: float, *,
                             tx: object | None = None) -> GalleryMatch | None:
        check_entries([entry])

        def work(conn: Connection) -> GalleryMatch | None:
            changelog.lock_log(conn)  # enrolments serialise: no two pass the check at once
            for hit in self._search(conn, entry.scope, entry.model_id, entry.vector, 10):
                if hit.customer_id != entry.customer_id and hit.score >= threshold:
                    return hit
            self.add([entry], tx=conn)
            return None

        return self._in(tx, work)

    def remove(self, scope: Scope, template_ids: Collection[str], *,
               tx: object | None = None) -> int:
        ids = check_scope_ids(template_ids)
        if not ids:
            return 0
        statement = text(f"DELETE FROM {PGVECTOR_TABLE} WHERE template_id = ANY(:ids)"
                         " AND tenant_id = :tn AND livemode = :l")
        params = {"ids": ids, "tn": scope.tenant_id, "l": scope.livemode}
        return self._in(tx, lambda c: int(c.execute(statement, params).rowcount or 0))

    # --- reads ---------------------------------------------------------------------------------
    def search(self, scope: Scope, model_id: str, query: Vector, k: int) -> list[GalleryMatch]:
        check_query(query, k)
        return self._runner.run(lambda c: self._search(c, scope, model_id, query, k),
                                write=False)

    def _search(self, conn: Connection, scope: Scope, model_id: str, query: Vector,
                k: int) -> list[GalleryMatch]:
        dim, vs = int(query.shape[0]), self._vs
        expr = f"(embedding::{vs}.vector({dim})) OPERATOR({vs}.<#>) CAST(:q AS {vs}.vector({dim}))"
        rows = conn.execute(text(
            f"SELECT template_id, customer_id, -({expr}) AS score FROM {PGVECTOR_TABLE}"
            f" WHERE dim = {dim} AND tenant_id = :tn AND livemode = :l AND model_id = :m"
            f" AND purpose = 'pay' ORDER BY {expr} LIMIT :k"),
            {"q": _literal(query), "tn": scope.tenant_id, "l": scope.livemode, "m": model_id,
             "k": k})
        return [GalleryMatch(r.template_id, r.customer_id, float(r.score)) for r in rows]

    def search_among(self, scope: Scope, model_id: str, query: Vector, k: int,
                     template_ids: Collection[str]) -> list[GalleryMatch]:
        check_query(query, k)
        ids = check_scope_ids(template_ids)
        if not ids:
            return []
        vs = self._vs
        # no dimension cast: the HNSW index does not match, the primary key is used, exact
        expr = f"embedding OPERATOR({vs}.<#>) CAST(:q AS {vs}.vector)"
        statement = text(
            f"SELECT template_id, customer_id, -({expr}) AS score FROM {PGVECTOR_TABLE}"
            f" WHERE template_id = ANY(:ids) AND tenant_id = :tn AND livemode = :l"
            f" AND model_id = :m AND dim = :d ORDER BY {expr} LIMIT :k")
        params = {"q": _literal(query), "ids": ids, "tn": scope.tenant_id,
                  "l": scope.livemode, "m": model_id, "d": int(query.shape[0]), "k": k}
        return self._runner.run(lambda c: [
            GalleryMatch(r.template_id, r.customer_id, float(r.score))
            for r in c.execute(statement, params)], write=False)

    def size(self, scope: Scope, model_id: str | None = None) -> int:
        where = "tenant_id = :tn AND livemode = :l" + (" AND model_id = :m" if model_id else "")
        statement = text(f"SELECT count(*) FROM {PGVECTOR_TABLE} WHERE {where}")
        params = {"tn": scope.tenant_id, "l": scope.livemode, "m": model_id}
        return self._runner.run(lambda c: int(c.execute(statement, params).scalar() or 0),
                                write=False)

    def catch_up(self) -> int:
        return 0  # one shared table: nothing to apply

    def applied(self) -> int:
        return 0

    def head(self) -> int:
        return 0

    def close(self) -> None:
        return None

    def _in(self, tx: object | None, work: Callable[[Connection], T]) -> T:
        if tx is None:
            return self._runner.run(work, write=True)
        if not isinstance(tx, Connection):
            raise TypeError(f"expected a SQLAlchemy Connection as tx, got {type(tx).__name__}")
        return work(tx)
