"""Engines for both databases, and the one way to run a unit of work with retries.

SQLite (WAL): one writer at a time. Write transactions start with ``BEGIN IMMEDIATE`` (so two
processes never both read-then-upgrade) and first take a thread lock and an ``flock`` on
``<db>.write.lock`` (so writers queue in the kernel and wake at once, instead of polling with
``busy_timeout``'s sleeps: that polling gave second-long tails with two uvicorn workers).
Reads use plain ``BEGIN`` and never wait for writers (WAL).
PostgreSQL: READ COMMITTED with ``SELECT ... FOR UPDATE`` on the rows a use case changes, in a
stable order; a deadlock or serialization failure re-runs the whole unit of work.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")

# serialization failure, deadlock detected, and a unique violation: two units of work that
# both open the same account (or customer) at once; the re-run finds the row the winner made.
_RETRYABLE_PG = {"40001", "40P01", "23505"}
MAX_ATTEMPTS = 8
_AUTOCHECKPOINT_PAGES = 16_000  # 64 MB of WAL with 4 KiB pages


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine with the settings this project relies on (WAL, FKs, timeouts)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            private_file(parsed.database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        _configure_sqlite(engine)
        if parsed.database and parsed.database != ":memory:":
            _Checkpointer(engine, parsed.database).start()
        return engine
    # No pre-ping (it costs a round trip per checkout); stale connections are recycled instead.
    # hide_parameters: a database error never carries names, hashes or secrets into a log
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                         hide_parameters=True)


def private_file(database: str) -> None:
    """The SQLite file (and so its -wal and -shm, which SQLite creates with the database
    file's mode) readable by this user only: 0600, made so before SQLite first opens it."""
    fd = os.open(database, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        side = Path(database + suffix)
        if side.exists() and side.stat().st_mode & 0o077:
            side.chmod(0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            # a safety net only: the checkpointer thread keeps the WAL short (_Checkpointer)
            f"wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("smilepay_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class _Checkpointer:
    """Copies the WAL back into the database file from a thread of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, with
    the writer lock held and an fsync of the database file: measured, about 15% of a
    payment's time under load. A ``PASSIVE`` checkpoint here, every ``interval_s``, never
    blocks readers or writers (SQLite's documentation suggests exactly this); the automatic
    one stays as a safety net at ``_AUTOCHECKPOINT_PAGES``. Stops when the engine is disposed.
    """

    def __init__(self, engine: Engine, database: str, interval_s: float = 0.25) -> None:
        self._database = database
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        event.listen(engine, "engine_disposed", lambda _engine: self._stop.set())

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        # mode=rw: never create the file (a test's database may be deleted before disposal)
        uri = f"file:{self._database}?mode=rw"
        conn: sqlite3.Connection | None = None
        while not self._stop.wait(self._interval_s) and os.path.exists(self._database):
            try:
                if conn is None:
                    conn = sqlite3.connect(uri, uri=True, timeout=0)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy (another checkpoint runs): try again next time
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


class _WriterLock:
    """One writer per database file across threads and processes."""

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = (
            Path(f"{database}.write.lock") if database and database != ":memory:" else None
        )
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            if self._path is None:
                yield
                return
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class TransactionRunner:
    """Runs ``work(connection)`` in one transaction, retrying transient conflicts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._writer = _WriterLock(engine.url.database if self._sqlite else None)

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        if self._sqlite and write:
            with self._writer.held(), self.engine.connect() as conn:
                conn = conn.execution_options(smilepay_write=write)
                with conn.begin():
                    yield conn
            return
        with self.engine.connect() as conn:
            if not write and not self._sqlite:
                # READ COMMITTED gives each statement its own snapshot anyway, so a read-only
                # unit of work skips BEGIN/COMMIT (two round trips) by running in autocommit.
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn = conn.execution_options(smilepay_write=write)
            with conn.begin():
                yield conn

    def run(self, work: Callable[[Connection], T], *, write: bool = True) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self._connection(write) as conn:
                    return work(conn)
            except (OperationalError, DBAPIError) as exc:
                if attempt == MAX_ATTEMPTS or not self.is_retryable(exc):
                    raise
                time.sleep(min(0.2, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    def is_retryable(self, exc: BaseException) -> bool:
        """A transient conflict: re-running the whole unit of work is the fix."""
        if not isinstance(exc, DBAPIError):
            return False
        if self._sqlite:
            return "database is locked" in str(exc.orig)
        return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_PG


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL (psycopg), statements that return nothing the caller reads are sent
    without waiting for each one's answer, and the answers read once at the end: one round
    trip instead of one per statement. A statement the server refuses is raised at the end,
    as SQLAlchemy raises it elsewhere (an ``IntegrityError``, a retryable deadlock, ...).
    Elsewhere it changes nothing. Only for statements whose results are not read inside."""
    if conn.dialect.name != "postgresql":
        yield
        return
    import psycopg

    driver = conn.connection.driver_connection
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            yield
    except psycopg.Error as error:
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error
