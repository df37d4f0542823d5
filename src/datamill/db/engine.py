"""Engine and session factory, built from settings (never at import time)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; SQLite gets WAL, foreign keys and a busy timeout.

    The pool keeps ``database_connections`` open, and opens as many more for a burst.
    """
    url = settings.resolved_database_url
    # Connections beyond the pool's size are closed when given back: too small a pool opens a
    # connection for most requests under load (and SQLite then reads its schema again).
    pool = {
        "pool_size": settings.database_connections,
        "max_overflow": settings.database_connections,
    }
    if url.startswith("sqlite"):
        settings.ensure_dirs()
        connect = {"check_same_thread": False, "timeout": 30}
        in_memory = make_url(url).database in (None, "", ":memory:")  # one connection, no pool
        engine = create_engine(url, connect_args=connect, **({} if in_memory else pool))
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_writes(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def _serialise_writes(engine: Engine) -> None:
    """Let one transaction of this process write at a time, waiting on a lock, not on SQLite.

    SQLite has one writer at a time. A second writer is made to wait by its busy handler, which
    sleeps in growing steps (up to 100 ms) and does not wake when the lock frees: under load
    (submissions, workers reporting, the timer) most of a write's time went to those sleeps. A
    transaction takes this process's lock at its first statement that is not a read, and gives
    it back when it commits or rolls back; reads never wait. Other processes (command-line
    tools) still meet the busy handler, rarely.
    """
    lock = threading.Lock()

    def before_execute(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get("writing") or statement.lstrip()[:6].upper() in _READS:
            return
        lock.acquire()
        conn.info["writing"] = True

    def release(info: dict[Any, Any]) -> None:
        if info.pop("writing", False):
            lock.release()

    def after_transaction(conn: Connection) -> None:
        release(conn.info)

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        release(record.info)  # a connection given back mid-transaction is rolled back

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", after_transaction)
    event.listen(engine, "rollback", after_transaction)
    event.listen(engine.pool, "checkin", on_checkin)


_READS = {"SELECT", "PRAGMA"}


def holds_write_lock(conn: Connection) -> bool:
    """Whether ``conn``'s transaction has written to SQLite: it holds the database's write lock
    (and this process's) until it ends."""
    return bool(conn.info.get("writing"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
