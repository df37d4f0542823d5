"""The local executor: a pool of worker processes owned by the API process (`datamill serve`).

Each child runs one attempt at a time, in its own process: a task that crashes, leaks or runs out
of memory takes down only its child, which the pool replaces at once (and the attempt it ran is
declared lost, so it is dispatched again while attempts remain).

The parent is the only one that talks to the database: it claims an attempt (``started``),
prepares it, sends the child what to run, and reports the child's result. A child only runs task
code. So a child killed at any moment (``kill -9``) cannot leave a database lock or a half-done
transaction behind, and on SQLite the writes of the API and of the pool queue on one lock in
one process instead of meeting SQLite's busy handler. Claims and reports go through one thread,
which writes all those waiting in one transaction: under load, a child's result and its next
claim share a commit. Each child has a pipe of its own; nothing is shared between children. The
parent knows which attempt each child runs: that is what lets it stop one attempt (cancel,
timeout) and recover from a death at once.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
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
from datamill.runs.effects import Effect, Outcome
from datamill.runs.execution import Result, StepError, claim, record_result, run_job
from datamill.runs.orchestrator import apply
from datamill.runs.workdir import workdir_path

log = logging.getLogger("datamill.pool")

ALL_QUEUES = ("*",)
"""The local pool serves every queue: on one machine there is nowhere else to send a step."""
PRELOADED = [
    "datamill.cli",  # a forked child runs the main script again: `datamill` imports this
    "datamill.runs.execution",
    "datamill.runs.tables",
    "pandas",
    "pyarrow.parquet",
]
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
    group: Any = None
    """A shared integer: the process group of the command the child runs, 0 when none."""
    job: Job | None = None
    stopping: bool = False
    killed_at: float | None = None

    def kill_command(self) -> None:
        """Kill the command the child runs, with what it started: it has a session of its own
        and would outlive a child killed with SIGKILL."""
        group = self.group.value if self.group is not None else 0
        if group > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)


@dataclass(frozen=True)
class _Claim:
    """Claim ``job`` for ``child`` and send it what to run."""

    child: Child
    job: Job


@dataclass(frozen=True)
class _Report:
    """Record how ``job`` ended."""

    job: Job
    result: Result


@dataclass(frozen=True)
class _Lost:
    """``job`` was claimed for a worker that died meanwhile."""

    worker_id: str
    job: Job


_Write = _Claim | _Report | _Lost


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
        self._writes: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        """Claims and reports: database work, off the pool thread (which must keep reading)."""
        self._writer = threading.Thread(target=self._write, name="datamill-pool-db", daemon=True)
        self._writing = True
        self._wake_read, self._wake_write = self._context.Pipe(duplex=False)
        self._thread = threading.Thread(target=self._serve, name="datamill-pool", daemon=True)

    # -- the Executor interface -------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            for _ in range(self.size):
                self._spawn()
        self._writer.start()
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
        if self._writer.is_alive():  # claims and reports waiting are written first
            self._writes.put(None)
            self._writer.join()
        self._writing = False
        with self._lock:
            children = list(self._children.values())
            for child in children:
                self._stop(child)
            for child in children:
                child.process.join(STOP_GRACE_SECONDS)
                if child.process.is_alive():
                    child.process.kill()
                    child.process.join()
                child.kill_command()
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
    def pids(self) -> dict[str, int]:
        """The process id of each child, by worker id."""
        with self._lock:
            return {c.worker_id: c.process.pid or 0 for c in self._children.values()}

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
        if message[0] == "result":
            _, job, result = message
            self._submit(_Report(job, result))
            self._free(child, job)
        elif message[0] == "progress":
            self.bus.publish(progress_message(*message[1:]))
        return True

    def _on_exit(self, child: Child) -> None:
        with self._lock:
            if self._children.get(child.worker_id) is not child:
                return
            del self._children[child.worker_id]
        child.process.join()
        child.kill_command()  # a child killed outright (kill -9, out of memory) left it running
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
                    child.kill_command()

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
        group = self._context.RawValue("i", 0)
        process = self._context.Process(
            target=child_main,
            args=(self.settings, worker_id, child_conn, group),
            name=f"datamill-worker-{worker_id[:8]}",
            daemon=True,
        )
        process.start()
        child_conn.close()
        now = self.clock()
        with self.sessions() as db:
            register_worker(db, ALL_QUEUES, now, pid=process.pid, worker_id=worker_id)
            db.commit()
        child = Child(worker_id, process, parent_conn, group)
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
        self._submit(_Claim(child, job))

    def _free(self, child: Child, job: Job) -> None:
        """``child`` is done with ``job``: give it the next one waiting."""
        with self._lock:
            if child.job != job:
                return
            child.job = None
            serving = self._children.get(child.worker_id) is child and not child.stopping
            if serving and self._pending and not self._closing.is_set():
                self._assign(child, self._next_job())

    def _submit(self, work: _Write) -> None:
        if not self._writing:  # the pool has closed: the timer resends later
            log.debug("the pool is closed: %s not written", work)
            return
        self._writes.put(work)

    # -- database work (in the pool's database thread) ----------------------------------------

    def _write(self) -> None:
        """Write what is waiting, all in one transaction, until :meth:`close`."""
        while True:
            batch = [self._writes.get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._writes.get_nowait())
            try:
                self._write_batch([work for work in batch if work is not None])
            except Exception:  # the only writer must outlive any one failure
                log.exception("the pool's database writer hit an error; carrying on")
            if None in batch:
                return

    def _write_batch(self, batch: list[_Write]) -> None:
        """Write ``batch`` and commit, then carry out what each write calls for. When the
        transaction fails, each is written again on its own, so that one bad write (a run
        deleted meanwhile, a database error) does not hold back the others."""
        if not batch:
            return
        try:
            with self.sessions() as db:
                then = [self._write_one(db, work) for work in batch]
                db.commit()
        except Exception:
            if len(batch) > 1:
                for work in batch:
                    self._write_batch([work])
                return
            log.exception("could not write %s", batch[0])
            if isinstance(batch[0], _Claim):  # else the timer times it out or declares it lost
                self._free(batch[0].child, batch[0].job)
            return
        for step in then:
            try:
                step()
            except Exception:
                log.exception("could not carry out what a write of the pool called for")

    def _write_one(self, db: Session, work: _Write) -> Callable[[], None]:
        """Write ``work`` (not committed); what to do once it is."""
        run_id, step, attempt = work.job
        if isinstance(work, _Report):
            reported = record_result(db, run_id, step, attempt, work.result, self.clock())
            return lambda: self._deliver_applied(run_id, reported)
        if isinstance(work, _Lost):
            lost = apply(db, run_id, machine.lost, step, attempt, work.worker_id, now=self.clock())
            return lambda: self._deliver_applied(run_id, lost)
        child, job = work.child, work.job
        try:
            began, prepared = claim(db, run_id, step, attempt, child.worker_id, self.clock())
        except NotFound:
            log.warning("run %s no longer exists: its step %s is dropped", run_id, step)
            return lambda: self._free(child, job)
        if prepared is None:  # a duplicated or stale dispatch: nothing to run
            return lambda: self._free(child, job)
        if isinstance(prepared, StepError):
            failed = Result("failed", reason=str(prepared))
            reported = record_result(db, run_id, step, attempt, failed, self.clock())

            def report_failure() -> None:
                self._deliver(run_id, began.effects)
                self._deliver_applied(run_id, reported)
                self._free(child, job)

            return report_failure

        def send() -> None:
            self._deliver(run_id, began.effects)
            if self._children.get(child.worker_id) is not child:  # it died meanwhile
                self._write_batch([_Lost(child.worker_id, job)])  # now: the pool may be closing
                return
            workdir = workdir_path(self.settings.data_dir, run_id, step, attempt)
            with contextlib.suppress(OSError, ValueError):  # it died: its sentinel tells the rest
                child.conn.send(("run", job, prepared, str(workdir)))

        return send

    def _stop(self, child: Child) -> None:
        """Ask ``child`` to stop (it kills its command first); it is killed if it lingers."""
        if child.stopping:
            return
        child.stopping = True
        child.killed_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            if child.process.pid is not None:
                os.kill(child.process.pid, signal.SIGTERM)

    def _deliver_applied(self, run_id: str, outcome: Outcome) -> None:
        if outcome.applied:
            self._deliver(run_id, outcome.effects)

    def _deliver(self, run_id: str, effects: Sequence[Effect]) -> None:
        try:
            self.deliver(run_id, effects)
        except Exception:
            log.exception("could not carry out the effects of run %s", run_id)


def child_main(settings: Settings, worker_id: str, conn: Connection, group: Any) -> None:
    """A worker process: run the prepared attempts the parent sends, one at a time, and send
    back each result; never touches the database. ``group`` tells the parent which process
    group to kill with this process if it has to kill it."""
    from datamill.runs.execution import set_group_listener

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    signal.signal(signal.SIGTERM, _stop_now)

    def tell(running: int | None) -> None:
        group.value = running or 0

    set_group_listener(tell)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        _, job, prepared, workdir = message

        def progress(fraction: float, text: str | None, job: Job = job) -> None:
            conn.send(("progress", *job, fraction, text))

        try:
            result = run_job(prepared, settings, Path(workdir), progress)
        except Exception as problem:  # run_job reports task failures itself; this is a bug
            log.exception("worker %s failed on %s", worker_id, job)
            result = Result("failed", reason=f"the worker failed: {problem}")
        conn.send(("result", job, result))


def _stop_now(_signum: int, _frame: object) -> None:
    """SIGTERM: kill the running command's process group, then leave at once."""
    from datamill.runs.execution import kill_running_command

    kill_running_command()
    os._exit(0)
