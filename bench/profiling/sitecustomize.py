"""Profiling for ``bench/runs.py --profile DIR``: on the import path of the processes it starts
only then, and inert unless ``BENCH_PROFILE_DIR`` is set.

- The API process (``datamill serve``): every thread under cProfile (the event loop, the
  threadpool running submissions, the pool thread), written to ``serve-<pid>.prof`` at exit.
- Every process that carries out attempts (local pool children, Celery pool processes):
  ``execute_attempt`` under cProfile, written to ``attempts-<pid>.prof`` every 20 attempts
  (those processes end with ``os._exit``, which skips ``atexit``).
- Every process: SQL statements slower than ``BENCH_SLOW_SQL_MS`` (5 ms), one line each (end
  time, milliseconds, thread, statement) in ``sql-<pid>.txt``: where a wait for a lock shows.

The profiles count each thread's CPU time (``time.thread_time``): waits on locks, sockets and
the database cost nothing there. ``BENCH_PROFILE_CLOCK=wall`` counts wall time instead, where a
thread waiting shows it as time spent; ``BENCH_PROFILE_CLOCK=off`` leaves cProfile out (only the
slow statements are logged, at full speed).
"""

from __future__ import annotations

import atexit
import cProfile
import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

DUMP_EVERY = 20
CLOCK = time.perf_counter if os.environ.get("BENCH_PROFILE_CLOCK") == "wall" else time.thread_time
SLOW_SQL_SECONDS = float(os.environ.get("BENCH_SLOW_SQL_MS", "5")) / 1000
"""``BENCH_SLOW_SQL_MS=0`` logs every statement."""


def _profile_every_thread(target: Path) -> None:
    profiles: list[cProfile.Profile] = []

    def start_in_thread(*_: Any) -> None:
        profile = cProfile.Profile(CLOCK)
        profiles.append(profile)
        profile.enable()  # replaces this hook in the new thread

    threading.setprofile(start_in_thread)
    main = cProfile.Profile(CLOCK)
    profiles.append(main)

    def dump() -> None:
        import pstats

        for profile in profiles:
            profile.create_stats()
        stats = pstats.Stats(*profiles)  # type: ignore[arg-type]
        stats.dump_stats(target)

    atexit.register(dump)
    # uvicorn handles SIGTERM itself, restores the handler it found and raises the signal again
    # once it has shut down: leave through SystemExit then, so that atexit writes the profile.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main.enable()


def _profile_attempts(directory: Path) -> None:
    from datamill.runs import execution

    original = execution.execute_attempt
    state: dict[str, Any] = {"pid": None, "profile": None, "count": 0}

    @functools.wraps(original)
    def profiled(*args: Any, **kwargs: Any) -> Any:
        if state["pid"] != os.getpid():  # first attempt in this (forked) process
            state.update(pid=os.getpid(), profile=cProfile.Profile(CLOCK), count=0)
        profile: cProfile.Profile = state["profile"]
        profile.enable()
        try:
            return original(*args, **kwargs)
        finally:
            profile.disable()
            state["count"] += 1
            if state["count"] % DUMP_EVERY == 0:
                profile.dump_stats(directory / f"attempts-{os.getpid()}.prof")

    execution.execute_attempt = profiled  # type: ignore[assignment]


def _log_slow_sql(directory: Path) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def before(conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - conn.info["bench_started"].pop()
        if took >= SLOW_SQL_SECONDS:
            text = " ".join(statement.split())[:90]
            thread = threading.current_thread().name
            with (directory / f"sql-{os.getpid()}.txt").open("a") as out:
                out.write(f"{time.time():.3f} {took * 1000:7.1f} ms  {thread:<24} {text}\n")

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)


def _install(directory: Path) -> None:
    if os.environ.get("BENCH_PROFILE_CLOCK") != "off":
        argv = list(getattr(sys, "orig_argv", []))
        if "datamill" in argv and "serve" in argv:
            _profile_every_thread(directory / f"serve-{os.getpid()}.prof")
        _profile_attempts(directory)
    _log_slow_sql(directory)


if os.environ.get("BENCH_PROFILE_DIR"):
    _install(Path(os.environ["BENCH_PROFILE_DIR"]))
