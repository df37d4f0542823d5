"""Everything one running app holds: settings, database, DuckDB engine, caches, limiter.

Built by the app's lifespan (never at import) and reached by routes through ``api.deps``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.ratelimit import LoginLimiter
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.query import RowsReader
from datamill.db.engine import make_engine, make_session_factory
from datamill.events.bus import EventBus, open_bus
from datamill.executors.base import Deliver, Executor
from datamill.executors.setup import open_executor
from datamill.runs.timer import RunTimer

# Concurrent argon2 checks (64 MiB each): enough for a team signing in, bounded for memory.
PASSWORD_CHECKS = 4


@dataclass
class AppContext:
    settings: Settings
    db_engine: DbEngine
    sessions: sessionmaker[Session]
    secret_key: str
    limiter: LoginLimiter
    password_checks: threading.BoundedSemaphore
    duck: Engine
    rows: RowsReader
    bus: EventBus
    executor: Executor | None = None
    """Started by :meth:`start_runs`; None in a context that only reads and writes data."""
    deliver: Deliver | None = None
    """Carries out a run's effects (dispatches, events) after their commit."""
    timer: RunTimer | None = None

    @classmethod
    def open(cls, settings: Settings) -> AppContext:
        settings.ensure_dirs()
        db_engine = make_engine(settings)
        duck = Engine(
            settings.duckdb_memory_limit,
            settings.tmp_dir / "duckdb",
            allowed_dirs=[settings.data_dir],
        )
        return cls(
            settings=settings,
            db_engine=db_engine,
            sessions=make_session_factory(db_engine),
            secret_key=settings.resolved_secret_key(),
            limiter=LoginLimiter(
                settings.login_attempts,
                settings.login_window_seconds,
                settings.login_attempts_per_address,
            ),
            password_checks=threading.BoundedSemaphore(PASSWORD_CHECKS),
            duck=duck,
            rows=RowsReader(duck, settings.cache_dir / "views", settings.view_cache_bytes),
            bus=open_bus(settings.resolved_events_url),
        )

    def start_runs(self) -> None:
        """Start the executor (the local pool's processes, or the Celery sender) and the timer.

        Separate from :meth:`open` because it starts processes and threads: only a serving
        app wants them, after its database is migrated.
        """
        self.executor, self.deliver = open_executor(self.settings, self.sessions, self.bus)
        self.timer = RunTimer(self.sessions, self.deliver, self.settings)
        self.timer.start()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.close()
        if self.executor is not None:
            self.executor.close()
        self.bus.close()
        self.rows.close()
        self.duck.close()
        self.db_engine.dispose()
