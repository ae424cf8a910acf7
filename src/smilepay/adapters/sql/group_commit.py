"""Group commit: write units of work from many threads, several in one transaction.

Every payment is a short unit of work (about a dozen statements). Run one transaction per unit
and, on SQLite, each unit pays for the writer lock, ``BEGIN IMMEDIATE`` and a WAL commit; on
PostgreSQL, for BEGIN/COMMIT round trips, a WAL flush, and the merchant balance row that every
payment credits stays locked until its own commit. Under load, requests queue for these anyway;
group commit runs the queued units back to back in ONE transaction and commits once (the
TigerBeetle way: batch, then commit), so each unit's share of the fixed costs shrinks as load
grows, and an idle service still runs every unit at once, alone.

How: the first caller to find no batch running becomes the leader. It runs its own unit and
up to ``max_batch - 1`` queued ones (oldest first) in order, on one connection and one context
(the money store's ``SqlMoneyTx``), closes the context (its last statements) and commits; then
every caller in the batch returns its own result. Callers that arrive meanwhile wait; when the
batch is done, the oldest of them is handed the next batch to lead (one wake-up per caller).
A caller may tell what its unit will read first (a hint): just before the batch's first keyed
unit, the transaction reads what the keyed units' hints name, all at once (``read_ahead``), and
that answers the units' own reads. Not before: the unkeyed units run first and take their locks
in the order they always did. A read-ahead that fails (bad input in a hint) costs nothing but
time: the batch is run again without it.

Failures keep each unit all-or-nothing: when a unit raises, the batch is rolled back and
re-run without it: the units before it in one transaction, then the failing unit alone (its
error goes to its caller, nothing of it is kept), then the units after it. When the batch's
last statements or its commit fail (a buffered write the database refuses), the halves are
re-run apart until the unit whose write it was fails alone. Conflicts the
runner retries (a PostgreSQL deadlock, serialization failure, or a unique key a concurrent
transaction just took) re-run the whole batch, as they re-ran a single unit before. Units are
therefore re-runnable, as they already had to be for those retries.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from smilepay.adapters.sql.engine import TransactionRunner

C = TypeVar("C")
T = TypeVar("T")


@dataclass(eq=False)
class _Unit:
    work: Callable[[Any], Any]
    order_key: str | None
    hint: object
    wake: threading.Event = field(default_factory=threading.Event)  # done, or lead `batch`
    batch: list[_Unit] | None = None  # set when this unit's caller is to lead it
    result: Any = None
    error: BaseException | None = None


class _ReadAheadFailed(Exception):
    """Internal: the read-ahead raised; the batch is rolled back and run without it."""


@dataclass
class _UnitFailed(Exception):
    """Internal: unit ``index`` of a batch raised ``error``; the batch is rolled back."""

    index: int
    error: BaseException = field(repr=False)


class GroupCommit(Generic[C]):
    """``run(work)`` runs ``work(context)`` in a transaction it may share with other callers.

    ``open_context(connection)`` makes the context a batch's units share; ``read_ahead(context,
    hints)`` runs before the first keyed unit, given the keyed units' hints in run order (None
    for a unit without one); ``close_context`` runs its last statements before the commit.
    One batch runs at a time per process (on PostgreSQL, more at once measured no faster and
    cost more CPU per payment: their row locks collide)."""

    def __init__(
        self, runner: TransactionRunner, open_context: Callable[[Connection], C],
        close_context: Callable[[C], None], *, max_batch: int = 32,
        read_ahead: Callable[[C, list[Any]], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"expected max_batch >= 1, got {max_batch}")
        self._runner = runner
        self._open = open_context
        self._close = close_context
        self._read_ahead = read_ahead
        self._max_batch = max_batch
        self._queue: deque[_Unit] = deque()
        self._lock = threading.Lock()
        self._leading = False
        self._local = threading.local()

    def run(
        self, work: Callable[[C], T], *, order_key: str | None = None, hint: object = None
    ) -> T:
        """``order_key``: a batch runs keyed units in key order (after the unkeyed ones, in
        arrival order), see ``ports.money.Hint``; ``hint``: given to ``read_ahead``. A call
        from inside a unit joins its transaction, with no read-ahead."""
        context = getattr(self._local, "context", None)
        if context is not None:  # called from inside a unit: it joins the open transaction
            return work(context)
        unit = _Unit(work, order_key, hint)
        with self._lock:
            self._queue.append(unit)
            if not self._leading:
                self._leading = True
                unit.batch = self._take()
        if unit.batch is None:
            unit.wake.wait()  # until a leader ran it, or handed this caller the next batch
        while unit.batch is not None:  # this caller leads a batch (its own unit is in it)
            batch, unit.batch = unit.batch, None
            try:
                self._run_atomic(batch)
            finally:
                self._hand_over(batch)
        if unit.error is not None:
            raise unit.error
        result: T = unit.result
        return result

    def _take(self) -> list[_Unit]:
        """The oldest queued units, in the order they will run (called under the lock)."""
        batch = [self._queue.popleft()]
        while self._queue and len(batch) < self._max_batch:
            batch.append(self._queue.popleft())
        # stable: one customer's units keep their arrival order
        batch.sort(key=lambda u: (u.order_key is not None, u.order_key or ""))
        return batch

    def _hand_over(self, finished: list[_Unit]) -> None:
        """Wake the callers of a finished batch; the oldest waiting caller leads the next one
        (one thread woken per unit: no herd of waiters re-checking a shared condition)."""
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.batch = self._take()
            else:
                successor = None
                self._leading = False
        for unit in finished:
            unit.wake.set()
        if successor is not None:
            successor.wake.set()

    def _run_atomic(self, units: list[_Unit], read_ahead: bool = True) -> None:
        """All ``units`` in one transaction, or (when one raises) split around it."""
        try:
            results = self._runner.run(lambda conn: self._run_in(conn, units, read_ahead))
        except _ReadAheadFailed:
            self._run_atomic(units, read_ahead=False)
            return
        except _UnitFailed as failed:
            if len(units) == 1:
                self._finish(units[0], error=failed.error)
                return
            before, failing, after = units[:failed.index], units[failed.index], units[
                failed.index + 1:]
            if before:
                self._run_atomic(before, read_ahead)
            self._run_atomic([failing], read_ahead)
            if after:
                self._run_atomic(after, read_ahead)
            return
        except Exception as error:  # the last statements or the commit failed: nothing kept
            if len(units) == 1:
                self._finish(units[0], error=error)
                return
            half = len(units) // 2  # find whose buffered write it was: halve until alone
            self._run_atomic(units[:half], read_ahead)
            self._run_atomic(units[half:], read_ahead)
            return
        except BaseException as error:  # interrupted: tell every caller, then stop
            for unit in units:
                self._finish(unit, error=error)
            raise
        for unit, result in zip(units, results, strict=True):
            self._finish(unit, result=result)

    def _run_in(self, conn: Connection, units: list[_Unit], read_ahead: bool) -> list[Any]:
        context = self._open(conn)
        self._local.context = context
        try:
            results = []
            for index, unit in enumerate(units):
                if read_ahead and unit.order_key is not None:  # the first keyed unit
                    self._read_ahead_for(context, units[index:])
                    read_ahead = False
                try:
                    results.append(unit.work(context))
                except Exception as error:
                    if self._runner.is_retryable(error):
                        raise  # the runner re-runs the whole batch
                    raise _UnitFailed(index, error) from error
            self._close(context)
            return results
        finally:
            self._local.context = None

    def _read_ahead_for(self, context: C, keyed: list[_Unit]) -> None:
        hints = [unit.hint for unit in keyed]
        if self._read_ahead is None or all(hint is None for hint in hints):
            return
        try:
            self._read_ahead(context, hints)
        except Exception as error:
            if self._runner.is_retryable(error):
                raise  # the runner re-runs the whole batch
            raise _ReadAheadFailed from error

    @staticmethod
    def _finish(unit: _Unit, *, result: Any = None, error: BaseException | None = None) -> None:
        unit.result, unit.error = result, error
