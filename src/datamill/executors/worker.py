"""The worker side of the Celery executor: what each prefork pool process does.

Every pool process is a worker of its own in the database, like a local pool child: it registers
its row when it starts (``worker_process_init``), sends heartbeats from a thread, and marks itself
down when it stops (``worker_process_shutdown``). It builds its own database engine there, after
the fork: a connection shared with the parent or a sibling would be corrupted by both using it.

A pool process killed outright (``kill -9``, out of memory) says nothing: its heartbeats stop, and
the run timer of the API processes declares its attempt lost after
``heartbeat_timeout_seconds`` and dispatches the next one. Celery requeues the killed message
(``reject_on_worker_lost``); its copy is dropped, since the attempt is no longer waiting to start.

A revoke with ``terminate=True`` sends SIGTERM to the pool process running the attempt. Billiard
installs its own SIGTERM handler in each pool process after ``worker_process_init`` (it raises
``SystemExit``); the step task wraps it, so that the command of the attempt, which runs in a
session of its own, is killed first.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from celery import signals  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import utcnow
from datamill.events.bus import EventBus, open_bus
from datamill.events.messages import progress_message
from datamill.executors.base import Deliver, deliverer
from datamill.executors.registry import (
    DOWN,
    UP,
    heartbeat,
    mark_down,
    register_worker,
    worker_message,
)
from datamill.problems import NotFound
from datamill.runs import execution, machine
from datamill.runs.effects import Effect, Outcome, Terminate
from datamill.runs.orchestrator import apply

log = logging.getLogger("datamill.worker")

LOST_EXIT_STATUS = 70
"""A pool process that cannot report the attempt it ran leaves with this status."""
GIVE_UP_PAUSE_SECONDS = 2.0

_config: tuple[Settings, tuple[str, ...]] | None = None
"""What :func:`prepare` was given, in the worker's main process; inherited by forked pool
processes."""
_process: PoolProcess | None = None
"""This pool process, once it started."""


@dataclass
class PoolProcess:
    """One Celery pool process: its worker row, database sessions, event bus and heartbeats."""

    settings: Settings
    queues: tuple[str, ...]
    worker_id: str
    engine: Engine
    sessions: sessionmaker[Session]
    bus: EventBus
    deliver: Deliver
    close_executor: Callable[[], None]
    stopping: threading.Event = field(default_factory=threading.Event)
    beating: threading.Thread | None = None

    @classmethod
    def start(cls, settings: Settings, queues: Sequence[str]) -> PoolProcess:
        """Register this process as a worker, announce it and start its heartbeats."""
        from datamill.db.engine import make_engine, make_session_factory
        from datamill.executors.celery import CeleryExecutor

        engine = make_engine(settings)
        sessions = make_session_factory(engine)
        now = utcnow()
        with sessions() as db:
            worker_id = register_worker(db, queues, now).id
            db.commit()
        bus = open_bus(settings.resolved_events_url)
        executor = CeleryExecutor(settings)
        process = cls(
            settings,
            tuple(queues),
            worker_id,
            engine,
            sessions,
            bus,
            deliverer(executor, bus),
            executor.close,
        )
        process.publish(UP)
        process.beating = threading.Thread(
            target=process._beat, name="datamill-heartbeat", daemon=True
        )
        process.beating.start()
        log.info("worker %s (pid %s) serves %s", worker_id, os.getpid(), ", ".join(queues))
        return process

    def run(self, run_id: str, step: str, attempt: int) -> None:
        """Carry out one attempt; the effects of each transition go out after its commit."""

        def on_commit(outcome: Outcome) -> None:
            self.carry_out(run_id, outcome.effects)

        def on_progress(fraction: float, message: str | None) -> None:
            self.bus.publish(progress_message(run_id, step, attempt, fraction, message))

        try:
            execution.execute_attempt(
                self.sessions,
                self.settings,
                run_id,
                step,
                attempt,
                self.worker_id,
                utcnow,
                on_commit=on_commit,
                on_progress=on_progress,
            )
        except NotFound:
            log.warning("run %s no longer exists: its step %s is dropped", run_id, step)
        except Exception:
            log.exception("worker %s failed on %s/%s/%s", self.worker_id, run_id, step, attempt)
            self.give_up(run_id, step, attempt)

    def give_up(self, run_id: str, step: str, attempt: int) -> None:
        """Declare lost an attempt that could not be reported, so that it runs again.

        When even that fails (the database is gone), leave the process after a pause: its
        heartbeats stop, the run timer declares the attempt lost later, and Celery requeues the
        message, whose copy is dropped once the database is back.
        """
        try:
            with self.sessions() as db:
                lost = apply(db, run_id, machine.lost, step, attempt, self.worker_id, now=utcnow())
                db.commit()
        except Exception:
            log.exception("could not declare %s/%s/%s lost", run_id, step, attempt)
            self.stopping.set()
            time.sleep(GIVE_UP_PAUSE_SECONDS)  # no hot loop of requeues while the database is down
            os._exit(LOST_EXIT_STATUS)
        self.carry_out(run_id, lost.effects)

    def carry_out(self, run_id: str, effects: Sequence[Effect]) -> None:
        """Send the next dispatches and the events; a failure is logged, since what failed to
        go out is recorded and resent by the run timer.

        A ``Terminate`` of this worker's own attempt (it timed out here, or was given up) is
        dropped: the attempt has ended, and a revoke would reach this process while it already
        runs its next message.
        """
        effects = [
            effect
            for effect in effects
            if not (isinstance(effect, Terminate) and effect.worker == self.worker_id)
        ]
        try:
            self.deliver(run_id, effects)
        except Exception:
            log.exception("could not carry out the effects of run %s", run_id)

    def stop(self) -> None:
        """Mark this worker down, announce it and release its connections."""
        self.stopping.set()
        if self.beating is not None:
            self.beating.join(timeout=self.settings.heartbeat_seconds + 1)
        try:
            with self.sessions() as db:
                mark_down(db, [self.worker_id], utcnow())
                db.commit()
            self.publish(DOWN)
        except Exception:
            log.exception("could not mark worker %s down", self.worker_id)
        self.close_executor()
        self.bus.close()
        self.engine.dispose()

    def publish(self, state: str) -> None:
        message = worker_message(self.worker_id, os.getpid(), self.queues, state, utcnow())
        try:
            self.bus.publish(message)
        except Exception:
            log.exception("could not publish that worker %s is %s", self.worker_id, state)

    def _beat(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            try:
                with self.sessions() as db:
                    heartbeat(db, [self.worker_id], utcnow())
                    db.commit()
            except Exception:
                log.exception("could not record the heartbeat of worker %s", self.worker_id)


def prepare(settings: Settings, queues: Sequence[str]) -> None:
    """In the worker's main process, before the pool starts: what each pool process serves,
    and the signal handlers that start and stop it."""
    global _config
    _config = (settings, tuple(queues))
    signals.worker_process_init.connect(_on_process_init, weak=False)
    signals.worker_process_shutdown.connect(_on_process_shutdown, weak=False)


def _on_process_init(**_: Any) -> None:
    global _process
    if _config is None:
        return  # a pool process of another Celery app in the same interpreter
    settings, queues = _config
    _process = PoolProcess.start(settings, queues)


def _on_process_shutdown(**_: Any) -> None:
    global _process
    process, _process = _process, None
    if process is not None:
        process.stop()


def run_step(run_id: str, step: str, attempt: int) -> None:
    """The body of the ``datamill.step`` task, in a pool process."""
    if _process is None:
        raise RuntimeError(
            "datamill.step runs only in the pool processes of `datamill worker` (prefork pool)"
        )
    _stop_commands_on_sigterm()
    _process.run(run_id, step, attempt)


def _stop_commands_on_sigterm() -> None:
    """Make SIGTERM (a revoke with ``terminate=True``) kill the running command first.

    Installed at the first task rather than at ``worker_process_init``: billiard sets its own
    handler after that signal, and that handler (``SystemExit``, so that the process ends
    through ``worker_process_shutdown``) is kept as the second half of this one.
    """
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "stops_commands", False):
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        execution.kill_running_command()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    stop.stops_commands = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, stop)
