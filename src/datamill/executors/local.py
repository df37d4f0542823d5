"""The local executor: a pool of worker processes owned by the API process (`datamill serve`).

Each child runs one attempt at a time, in its own process: a task that crashes, leaks or runs out
of memory takes down only its child, which the pool replaces at once (and the attempt it ran is
declared lost, so it is dispatched again while attempts remain).

The pool thread in the parent is the only one that talks to the children, each over a pipe of
its own. Nothing is shared between children, so a child killed at any moment (``kill -9``)
cannot leave a lock held that the others wait for. The parent knows which attempt each child
runs: that is what lets it stop one attempt (cancel, timeout) and recover from a death at once.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import new_id, utcnow
from datamill.events.bus import EventBus
from datamill.events.messages import progress_message
from datamill.executors.base import Deliver
from datamill.executors.registry import (
    DOWN,
    UP,
    heartbeat,
    mark_down,
    register_worker,
    worker_message,
)
from datamill.problems import NotFound
from datamill.runs import machine
from datamill.runs.effects import Effect
from datamill.runs.orchestrator import apply

log = logging.getLogger("datamill.pool")

ALL_QUEUES = ("*",)
"""The local pool serves every queue: on one machine there is nowhere else to send a step."""
PRELOADED = ["datamill.runs.execution", "datamill.runs.tables", "pandas", "pyarrow.parquet"]
"""Modules the fork server imports once for every child."""
STOP_GRACE_SECONDS = 1.0
"""How long a child asked to stop may take before it is killed."""

Job = tuple[str, str, int]
"""``(run id, step, attempt)``."""


@dataclass
class Child:
    """One worker process and what it runs."""

    worker_id: str
    process: BaseProcess
    conn: Connection
    job: Job | None = None
    stopping: bool = False
    killed_at: float | None = None


@dataclass
class LocalPool:
    """``size`` worker processes serving every queue; see the module's docstring."""

    settings: Settings
    sessions: sessionmaker[Session]
    bus: EventBus
    size: int
    deliver: Deliver = field(default=lambda _run, _effects: None)
    """Carries out the effects the children report; set by whoever wires the pool to a bus."""
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        # Children are forked from a fork server that has imported the execution code and the
        # table libraries once: a new or replaced child is ready in milliseconds, a table step
        # does not pay for importing pandas, and no child inherits the threads and connections
        # of the API process (which a plain fork would).
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOADED)
        self._lock = threading.RLock()
        self._children: dict[str, Child] = {}
        self._pending: dict[Job, None] = {}
        """Jobs waiting for an idle child, oldest first; a job resent while it waits is one."""
        self._missing = 0
        """Children that died and could not be replaced yet (the database was unreachable)."""
        self._closing = threading.Event()
        self._wake_read, self._wake_write = self._context.Pipe(duplex=False)
        self._thread = threading.Thread(target=self._serve, name="datamill-pool", daemon=True)

    # -- the Executor interface -------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            for _ in range(self.size):
                self._spawn()
        self._thread.start()

    def dispatch(self, run_id: str, step: str, attempt: int, queue: str) -> None:
        with self._lock:
            job = (run_id, step, attempt)
            if any(child.job == job for child in self._children.values()):
                return  # a resent dispatch of an attempt already running here
            idle = self._idle_child()
            if idle is None:
                self._pending[job] = None
            else:
                self._assign(idle, job)

    def terminate(self, run_id: str, step: str, attempt: int, worker: str) -> None:
        with self._lock:
            job = (run_id, step, attempt)
            self._pending.pop(job, None)
            child = self._children.get(worker)
            if child is not None and child.job == job:
                self._stop(child)

    def close(self) -> None:
        """Stop every child; the attempts they ran are released, to run again after a restart
        without counting as failures. Closing twice does nothing."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake_write.send(None)
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            children = list(self._children.values())
            for child in children:
                self._stop(child)
            for child in children:
                child.process.join(STOP_GRACE_SECONDS)
                if child.process.is_alive():
                    child.process.kill()
                    child.process.join()
            self._children.clear()
        for child in children:
            self._after_death(child, planned=True)
        self._wake_read.close()
        self._wake_write.close()

    @property
    def busy(self) -> dict[str, Job]:
        """What each child runs now, by worker id."""
        with self._lock:
            return {c.worker_id: c.job for c in self._children.values() if c.job is not None}

    @property
    def worker_ids(self) -> list[str]:
        with self._lock:
            return list(self._children)

    # -- the pool thread ----------------------------------------------------------------------

    def _serve(self) -> None:
        last_beat = time.monotonic()
        while not self._closing.is_set():
            with self._lock:
                children = list(self._children.values())
            waitables: list[Any] = [self._wake_read]
            for child in children:
                waitables += [child.conn, child.process.sentinel]
            try:
                self._serve_once(children, waitables)
                self._escalate()
                self._replenish()
            except Exception:  # the pool must outlive any one failure, or every step stalls
                log.exception("the worker pool hit an error; carrying on")
                time.sleep(0.1)
            if time.monotonic() - last_beat >= self.settings.heartbeat_seconds:
                last_beat = time.monotonic()
                self._beat()

    def _serve_once(self, children: list[Child], waitables: list[Any]) -> None:
        for ready in wait(waitables, timeout=min(1.0, self.settings.heartbeat_seconds)):
            if ready is self._wake_read:
                with contextlib.suppress(EOFError, OSError):
                    self._wake_read.recv()
                continue
            for child in children:
                if ready is child.conn:
                    self._receive(child)
                elif ready == child.process.sentinel:
                    self._on_exit(child)

    def _receive(self, child: Child) -> bool:
        """Handle one message of ``child``; False when there is none to read any more."""
        try:
            message = child.conn.recv()
        except (EOFError, OSError):
            return False  # the child died; its sentinel tells the rest
        if message[0] == "effects":
            _, run_id, effects = message
            self._deliver(run_id, effects)
        elif message[0] == "progress":
            self.bus.publish(progress_message(*message[1:]))
        elif message[0] == "idle":
            with self._lock:
                child.job = None
                serving = self._children.get(child.worker_id) is child and not child.stopping
                if serving and self._pending:
                    self._assign(child, self._next_job())
        return True

    def _on_exit(self, child: Child) -> None:
        with self._lock:
            if self._children.get(child.worker_id) is not child:
                return
            del self._children[child.worker_id]
        child.process.join()
        # Read what the child said before it died: an attempt it finished must not be lost.
        while True:
            try:
                if not child.conn.poll():
                    break
            except (EOFError, OSError):
                break
            if not self._receive(child):
                break
        if not child.stopping:
            log.warning(
                "worker process %s exited with %s", child.process.pid, child.process.exitcode
            )
        self._after_death(child)
        if not self._closing.is_set():
            with self._lock:
                self._missing += 1
            self._replenish()

    def _replenish(self) -> None:
        """Start the children that died and are not replaced yet; a failure is tried again
        at the next turn of the pool thread."""
        with self._lock:
            while self._missing > 0 and not self._closing.is_set():
                replacement = self._spawn()
                self._missing -= 1
                if self._pending:
                    self._assign(replacement, self._next_job())

    def _after_death(self, child: Child, *, planned: bool = False) -> None:
        """Mark a dead child's worker down, and declare lost the attempt it ran (or, when
        the pool stops on purpose, release it: it did not fail)."""
        child.conn.close()
        now = self.clock()
        transition = machine.released if planned else machine.lost
        try:
            with self.sessions() as db:
                mark_down(db, [child.worker_id], now)
                effects: Sequence[Effect] = ()
                if child.job is not None:
                    run_id, step, attempt = child.job
                    ended = apply(db, run_id, transition, step, attempt, child.worker_id, now=now)
                    effects = ended.effects
                db.commit()
        except Exception:  # the database may be gone at shutdown; the timer recovers later
            log.exception("could not record the end of worker %s", child.worker_id)
            return
        if child.job is not None:
            self._deliver(child.job[0], effects)
        pid = child.process.pid or 0
        self.bus.publish(worker_message(child.worker_id, pid, ALL_QUEUES, DOWN, now))

    def _escalate(self) -> None:
        """Kill the children asked to stop that are still alive after the grace period."""
        with self._lock:
            for child in self._children.values():
                if child.killed_at is not None and time.monotonic() - child.killed_at > (
                    STOP_GRACE_SECONDS
                ):
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()

    def _beat(self) -> None:
        try:
            with self.sessions() as db:
                heartbeat(db, self.worker_ids, self.clock())
                db.commit()
        except Exception:
            log.exception("could not record the workers' heartbeats")

    # -- helpers (called with the lock held) --------------------------------------------------

    def _spawn(self) -> Child:
        parent_conn, child_conn = self._context.Pipe()
        worker_id = new_id()
        process = self._context.Process(
            target=child_main,
            args=(self.settings, worker_id, child_conn),
            name=f"datamill-worker-{worker_id[:8]}",
            daemon=True,
        )
        process.start()
        child_conn.close()
        now = self.clock()
        with self.sessions() as db:
            register_worker(db, ALL_QUEUES, now, pid=process.pid, worker_id=worker_id)
            db.commit()
        child = Child(worker_id, process, parent_conn)
        self._children[worker_id] = child
        self.bus.publish(worker_message(worker_id, process.pid or 0, ALL_QUEUES, UP, now))
        with contextlib.suppress(OSError):
            self._wake_write.send(None)  # the pool thread must wait on the new child too
        return child

    def _next_job(self) -> Job:
        job = next(iter(self._pending))
        del self._pending[job]
        return job

    def _idle_child(self) -> Child | None:
        for child in self._children.values():
            if child.job is None and not child.stopping:
                return child
        return None

    def _assign(self, child: Child, job: Job) -> None:
        child.job = job
        with contextlib.suppress(OSError, ValueError):  # it died: its sentinel tells the rest
            child.conn.send(job)

    def _stop(self, child: Child) -> None:
        """Ask ``child`` to stop (it kills its command first); it is killed if it lingers."""
        if child.stopping:
            return
        child.stopping = True
        child.killed_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            if child.process.pid is not None:
                os.kill(child.process.pid, signal.SIGTERM)

    def _deliver(self, run_id: str, effects: Sequence[Effect]) -> None:
        try:
            self.deliver(run_id, effects)
        except Exception:
            log.exception("could not carry out the effects of run %s", run_id)


def child_main(settings: Settings, worker_id: str, conn: Connection) -> None:
    """A worker process: run the attempts the parent sends, one at a time, until told to stop."""
    from datamill.db.engine import make_engine, make_session_factory
    from datamill.runs import execution

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    signal.signal(signal.SIGTERM, _stop_now)
    sessions = make_session_factory(make_engine(settings))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        run_id, step, attempt = job

        def report(outcome: Any, run_id: str = run_id) -> None:
            conn.send(("effects", run_id, outcome.effects))

        def progress(fraction: float, message: str | None, job: Job = job) -> None:
            conn.send(("progress", *job, fraction, message))

        try:
            execution.execute_attempt(
                sessions,
                settings,
                run_id,
                step,
                attempt,
                worker_id,
                utcnow,
                on_commit=report,
                on_progress=progress,
            )
        except NotFound:
            log.warning("run %s no longer exists: its step %s is dropped", run_id, step)
        except Exception:
            # Losing the process makes the parent declare the attempt lost: it runs again.
            log.exception("worker %s failed on %s/%s/%s", worker_id, run_id, step, attempt)
            os._exit(70)
        conn.send(("idle",))


def _stop_now(_signum: int, _frame: object) -> None:
    """SIGTERM: kill the running command's process group, then leave at once."""
    from datamill.runs.execution import kill_running_command

    kill_running_command()
    os._exit(0)
