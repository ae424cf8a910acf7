"""Helpers for the money tests: calls whose units of work run as one group-commit batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.ports.money import MoneyTx


def queued_in_one_batch(store: SqlMoneyStore, calls: list[Callable[[], Any]]
                        ) -> list[Future[Any]]:
    """Hold the writer with a blocking unit, start ``calls`` (each runs one unit of work on
    ``store``) one by one so that they queue in this order behind it, then let them run."""
    started, release = threading.Event(), threading.Event()

    def blocking(tx: MoneyTx) -> None:
        started.set()
        assert release.wait(10)

    pool = ThreadPoolExecutor(1 + len(calls))
    pool.submit(store.run, blocking)
    assert started.wait(10)
    futures = []
    for call in calls:
        futures.append(pool.submit(call))
        deadline = time.monotonic() + 10
        while len(store._writes._queue) < len(futures) and time.monotonic() < deadline:
            time.sleep(0.005)
    release.set()
    pool.shutdown(wait=True)
    return futures
