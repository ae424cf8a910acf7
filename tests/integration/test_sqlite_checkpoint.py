"""SQLite's WAL is copied back into the database file by the engine's checkpointer thread,
not by a commit (which would hold the writer lock through an fsync)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from smilepay.adapters.sql.engine import TransactionRunner, make_engine

pytestmark = pytest.mark.integration


def test_committed_pages_reach_the_database_file_without_a_checkpointing_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ckpt.db"
    engine = make_engine(f"sqlite:///{path}")
    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True),
                 Column("text", String(400)))
    metadata.create_all(engine)
    runner = TransactionRunner(engine)
    for batch in range(10):  # about 1 MB: far below the 16,000-page automatic checkpoint
        runner.run(lambda conn, b=batch: conn.execute(
            rows.insert(), [{"id": b * 250 + i, "text": "x" * 400} for i in range(250)]))
    deadline = time.monotonic() + 5
    while os.path.getsize(path) < 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.getsize(path) >= 1_000_000  # the rows are in the file, not only in the WAL
    engine.dispose()
