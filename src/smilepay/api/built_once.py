"""Objects the routers build on first use and keep in ``container.extras``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, cast

from smilepay.bootstrap import Container
from smilepay.ports.gates import GatesStore

T = TypeVar("T")
_BUILD_LOCK = threading.RLock()


def built_once(container: Container, name: str, build: Callable[[], T]) -> T:
    """``container.extras[name]``, built by ``build()`` on first use. Sync routes run in a
    thread pool, so two first requests must not each build one (a lock; re-entrant, since one
    build may need another)."""
    with _BUILD_LOCK:
        found = container.extras.get(name)
        if found is None:
            found = build()
            container.extras[name] = found
    return cast(T, found)


def gates_store(container: Container) -> GatesStore:
    """The container's ``SqlGatesStore`` (identity routes and the store's face gate share it)."""
    from smilepay.adapters.sql.gates_store import SqlGatesStore

    return built_once(container, "gates",
                      lambda: cast(GatesStore, SqlGatesStore(container.store.engine)))
