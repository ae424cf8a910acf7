"""The benchmark's baseline: a bare FastAPI app that inserts one row per request, on the same
engine set-up as the real API (SQLite WAL with serialised writes, or PostgreSQL)."""

from __future__ import annotations

import os
import secrets
import time

from fastapi import FastAPI
from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table

from smilepay.adapters.sql.engine import TransactionRunner, make_engine

rows_metadata = MetaData()
bench_rows = Table(
    "bench_rows",
    rows_metadata,
    Column("id", String(40), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)


def create_bare_table(url: str) -> None:
    """Made once by the benchmark before the app starts: two workers creating it at once race
    on PostgreSQL (one of them fails, and the server with it)."""
    engine = make_engine(url)
    rows_metadata.create_all(engine)
    engine.dispose()


def create_bare_app() -> FastAPI:
    engine = make_engine(os.environ["SMILEPAY_BENCH_DATABASE_URL"])
    runner = TransactionRunner(engine)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/rows")
    def insert_row(body: dict[str, int]) -> dict[str, str]:
        row_id = "row_" + secrets.token_hex(8)

        def work(conn: Connection) -> None:
            conn.execute(bench_rows.insert().values(
                id=row_id, amount_minor=int(body.get("amount_minor", 0)),
                created_at_ms=time.time_ns() // 1_000_000))

        runner.run(work)
        return {"id": row_id}

    return app
