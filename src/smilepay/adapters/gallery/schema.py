"""The gallery tables, created by migration ``gallery_0001``.

- ``gallery_changes``: the change log. One row per add or remove, ``seq`` strictly increasing
  in commit order (writers serialise on a transaction lock, see ``changelog``), indexed by its
  primary key: a worker's catch-up is one range read ``seq > applied``.
- ``gallery_vectors``: the searchable templates of the FAISS adapter, each vector sealed with
  the AES-GCM key ring (bound to its template, scope and model). An erasure deletes the row in
  the erasing transaction, so nothing of it stays in the table.
- ``gallery_pgvector``: the pgvector adapter's table (PostgreSQL with the ``vector``
  extension only): plain rotated vectors searched in SQL, HNSW per dimension
  (``ensure_pgvector_index``).

No column holds a picture; vectors are rotated into each tenant's secret space before they
reach any of these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

from smilepay.adapters.sql.scoped_columns import ID, scope_columns
from smilepay.errors import SmilePayError

gallery_metadata = MetaData()
# SQLite only auto-increments an INTEGER PRIMARY KEY
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class PgvectorMissing(SmilePayError):
    code = "pgvector_missing"


gallery_changes = Table(
    "gallery_changes", gallery_metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    *scope_columns(),
    Column("model_id", String(80), nullable=False),
    Column("template_id", ID, nullable=False),
    Column("op", String(8), nullable=False),  # "add" | "remove"
    Column("at_ms", BigInteger, nullable=False),
)

gallery_vectors = Table(
    "gallery_vectors", gallery_metadata,
    Column("template_id", ID, primary_key=True),
    *scope_columns(),
    Column("model_id", String(80), nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("dim", Integer, nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("nonce", LargeBinary(16), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Index("ix_gallery_vectors_scope", "tenant_id", "livemode", "model_id"),
)

PGVECTOR_TABLE = "gallery_pgvector"


def pgvector_available(conn: Connection) -> bool:
    """The ``vector`` extension is installed on this server (created or creatable)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    return found is not None


def vector_schema(conn: Connection) -> str:
    """The schema the extension lives in (its type and operators are qualified with it, so a
    connection whose ``search_path`` leaves it out still finds them)."""
    found = conn.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'vector'")).scalar()
    if found is None:
        raise PgvectorMissing("expected the vector extension created, got none")
    return f'"{found}"'


def create_pgvector_table(conn: Connection) -> None:
    """The extension and the table (idempotent); ``PgvectorMissing`` when it cannot be."""
    if not pgvector_available(conn):
        raise PgvectorMissing("expected PostgreSQL with the pgvector extension available "
                              "(run scripts/install-pgvector.sh), got "
                              f"{conn.dialect.name} without it")
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    vs = vector_schema(conn)
    conn.execute(text(
        f"CREATE TABLE IF NOT EXISTS {PGVECTOR_TABLE} ("
        " template_id varchar(40) PRIMARY KEY, tenant_id varchar(40) NOT NULL,"
        " livemode boolean NOT NULL, model_id varchar(80) NOT NULL,"
        " customer_id varchar(40) NOT NULL, purpose varchar(16) NOT NULL,"
        f" dim integer NOT NULL, embedding {vs}.vector NOT NULL)"))
    conn.execute(text(
        f"CREATE INDEX IF NOT EXISTS ix_{PGVECTOR_TABLE}_scope "
        f"ON {PGVECTOR_TABLE} (tenant_id, livemode, model_id)"))


def hnsw_index_name(dim: int) -> str:
    return f"ix_{PGVECTOR_TABLE}_hnsw_{int(dim)}"


def ensure_pgvector_index(conn: Connection, dim: int, m: int = 16,
                          ef_construction: int = 64) -> None:
    """An HNSW index (inner product) over the vectors of one dimension: a partial expression
    index, since one column holds every model's vectors."""
    dim, m, ef_construction = int(dim), int(m), int(ef_construction)
    vs = vector_schema(conn)
    conn.execute(text(
        f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(dim)} ON {PGVECTOR_TABLE} USING hnsw "
        f"((embedding::{vs}.vector({dim})) {vs}.vector_ip_ops) WITH (m = {m}, "
        f"ef_construction = {ef_construction}) WHERE dim = {dim}"))
