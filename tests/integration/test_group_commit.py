"""Group commit on a real SQLite database: callers that queue while a transaction runs share
the next one, a failing unit loses only its own writes, and a nested call joins the open one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select

from smilepay.adapters.sql.engine import TransactionRunner, make_engine
from smilepay.adapters.sql.group_commit import GroupCommit

pytestmark = pytest.mark.integration
Ctx = TypeVar("Ctx", bound="Counting")
metadata = MetaData()
rows = Table("rows", metadata, Column("id", String(20), primary_key=True),
             Column("n", Integer, nullable=False))


class Counting:
    """The shared context: the connection, and which batch it belongs to."""

    opened = 0

    def __init__(self, conn: Connection) -> None:
        Counting.opened += 1
        self.conn = conn
        self.batch = Counting.opened


@pytest.fixture
def committer(tmp_path: Path) -> Iterator[tuple[GroupCommit[Counting], TransactionRunner]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gc.db'}")
    metadata.create_all(engine)
    runner = TransactionRunner(engine)
    Counting.opened = 0
    yield GroupCommit(runner, Counting, lambda ctx: None, max_batch=16), runner
    engine.dispose()


def insert(row_id: str, n: int = 1) -> Callable[[Counting], int]:
    def work(ctx: Counting) -> int:
        ctx.conn.execute(rows.insert().values(id=row_id, n=n))
        return ctx.batch

    return work


def stored_ids(runner: TransactionRunner) -> list[str]:
    return runner.run(lambda c: [r.id for r in c.execute(select(rows).order_by(rows.c.id))],
                      write=False)


def run_queued(group: GroupCommit[Ctx], works: list[Callable[[Ctx], int]],
               keys: list[str | None] | None = None, hints: list[object] | None = None,
               ) -> list[Future[int]]:
    """Run a blocking unit, queue ``works`` (with order ``keys`` and ``hints``) behind it, then
    let it finish."""
    started, release = threading.Event(), threading.Event()

    def blocking(ctx: Ctx) -> int:
        started.set()
        assert release.wait(10)
        ctx.conn.execute(rows.insert().values(id="0-first", n=0))
        return ctx.batch

    pool = ThreadPoolExecutor(len(works) + 1)
    first = pool.submit(group.run, blocking)
    assert started.wait(10)
    futures = []
    for work, key, hint in zip(works, keys or [None] * len(works),
                               hints or [None] * len(works), strict=True):
        futures.append(pool.submit(group.run, work, order_key=key, hint=hint))
        deadline = time.monotonic() + 10
        while len(group._queue) < len(futures) and time.monotonic() < deadline:
            time.sleep(0.005)  # each caller waits behind the running transaction, in turn
    release.set()
    pool.shutdown(wait=True)
    assert first.exception() is None
    return futures


def test_callers_queued_behind_a_running_transaction_share_the_next(
    committer: tuple[GroupCommit[Counting], TransactionRunner],
) -> None:
    group, runner = committer
    futures = run_queued(group, [insert(f"r{i}", i) for i in range(8)])
    assert {f.result() for f in futures} == {2}  # after the blocking one: one transaction
    assert stored_ids(runner) == ["0-first"] + [f"r{i}" for i in range(8)]


def test_a_failing_unit_loses_only_its_own_writes(
    committer: tuple[GroupCommit[Counting], TransactionRunner],
) -> None:
    group, runner = committer

    def fails_after_writing(ctx: Counting) -> int:
        ctx.conn.execute(rows.insert().values(id="bad", n=-1))
        raise ValueError("declined by the unit itself")

    futures = run_queued(group, [insert("a"), insert("b"), fails_after_writing, insert("c")])
    assert isinstance(futures[2].exception(), ValueError)
    assert all(f.exception() is None for i, f in enumerate(futures) if i != 2)
    assert stored_ids(runner) == ["0-first", "a", "b", "c"]


def test_a_nested_call_joins_the_open_transaction(
    committer: tuple[GroupCommit[Counting], TransactionRunner],
) -> None:
    group, runner = committer

    def outer(ctx: Counting) -> int:
        ctx.conn.execute(rows.insert().values(id="outer", n=1))
        assert group.run(insert("inner")) == ctx.batch
        raise RuntimeError("roll both back")

    with pytest.raises(RuntimeError):
        group.run(outer)
    assert stored_ids(runner) == []
    group.run(insert("after"))
    assert stored_ids(runner) == ["after"]


def test_a_batch_runs_keyed_units_in_key_order_so_batches_lock_alike(
    committer: tuple[GroupCommit[Counting], TransactionRunner],
) -> None:
    group, _ = committer
    order: list[str] = []

    def note(name: str) -> Callable[[Counting], int]:
        def work(ctx: Counting) -> int:
            order.append(name)
            return ctx.batch
        return work

    names = ["cus_b#1", "cus_a", "plain#1", "cus_b#2", "plain#2"]
    keys: list[str | None] = ["cus_b", "cus_a", None, "cus_b", None]
    run_queued(group, [note(n) for n in names], keys)
    assert order == ["plain#1", "plain#2", "cus_a", "cus_b#1", "cus_b#2"]


class Deferring(Counting):
    """A context whose writes go out when the batch closes (as the money store's do)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.later: list[dict[str, object]] = []

    def close(self) -> None:
        if self.later:
            self.conn.execute(rows.insert(), self.later)


def test_a_write_refused_at_the_batch_end_fails_only_its_unit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'late.db'}")
    metadata.create_all(engine)
    runner = TransactionRunner(engine)
    group: GroupCommit[Deferring] = GroupCommit(runner, Deferring, Deferring.close)

    def later(row_id: str) -> Callable[[Deferring], int]:
        def work(ctx: Deferring) -> int:
            ctx.later.append({"id": row_id, "n": 1})
            return ctx.batch
        return work

    group.run(later("taken"))
    futures = run_queued(group, [later("a"), later("b"), later("taken"), later("c")])
    errors = [type(f.exception()).__name__ for f in futures]
    assert errors[:2] + errors[3:] == ["NoneType"] * 3 and errors[2] == "IntegrityError"
    assert stored_ids(runner) == ["0-first", "a", "b", "c", "taken"]
    engine.dispose()


@contextmanager
def ahead_committer(tmp_path: Path, read_ahead: Callable[[Counting, list[object]], None]
                    ) -> Iterator[tuple[GroupCommit[Counting], TransactionRunner]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ahead.db'}")
    metadata.create_all(engine)
    Counting.opened = 0
    runner = TransactionRunner(engine)
    yield GroupCommit(runner, Counting, lambda ctx: None, read_ahead=read_ahead), runner
    engine.dispose()


def test_read_ahead_runs_before_the_first_keyed_unit_and_again_for_each_re_run(
    tmp_path: Path,
) -> None:
    read: list[tuple[int, list[object]]] = []  # (batch, hints) per read-ahead
    def unit(keyed: bool = True, fails: bool = False) -> Callable[[Counting], int]:
        def work(ctx: Counting) -> int:
            # keyed units run after their batch's read-ahead; unkeyed ones before it
            assert (bool(read) and read[-1][0] == ctx.batch) == keyed
            if fails:
                raise ValueError("declined")
            return ctx.batch
        return work

    with ahead_committer(tmp_path, lambda ctx, hints: read.append((ctx.batch, hints))) as (
            group, _):
        futures = run_queued(
            group, [unit(keyed=False), unit(), unit(), unit(fails=True), unit()],
            keys=[None, "k1", "k2", "k3", "k4"], hints=["plain", "a", None, "bad", "c"])
    assert isinstance(futures[3].exception(), ValueError)
    # Batch 1 is the blocking unit. Batch 2 held the five and was rolled back at the failing
    # one; then the units before it (3), it alone (4), the one after it (5).
    assert read == [(2, ["a", None, "bad", "c"]), (3, ["a", None]), (4, ["bad"]), (5, ["c"])]
    assert [f.result() for i, f in enumerate(futures) if i != 3] == [3, 3, 3, 5]


def test_a_read_ahead_that_fails_costs_only_a_re_run_without_it(tmp_path: Path) -> None:
    tried: list[int] = []

    def failing(ctx: Counting, hints: list[object]) -> None:
        tried.append(ctx.batch)
        ctx.conn.execute(rows.insert().values(id="read-ahead", n=0))  # rolled back with it
        raise ValueError("a hint the database refuses")

    with ahead_committer(tmp_path, failing) as (group, runner):
        futures = run_queued(group, [insert("a"), insert("b")], keys=["k1", "k2"],
                             hints=["a", "b"])
        assert tried == [2]
        assert [f.result() for f in futures] == [3, 3]  # batch 3: the same two, no read-ahead
        assert stored_ids(runner) == ["0-first", "a", "b"]
