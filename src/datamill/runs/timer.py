"""The orchestrator's clock: a thread that applies what time alone changes in runs.

Due retries, dispatches lost between a commit and the executor, steps past their timeout and
steps of workers that stopped sending heartbeats (``orchestrator.tick_run``). Each run is ticked
and committed on its own, so that one broken run cannot hold up or roll back the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import utcnow
from datamill.executors.base import Deliver
from datamill.runs.orchestrator import active_runs, due_runs, tick_run

log = logging.getLogger("datamill.timer")

FULL_SWEEP_EVERY = 30
"""Every this many ticks, every active run is ticked, not only those found due."""


def tick_runs(
    sessions: sessionmaker[Session],
    deliver: Deliver,
    settings: Settings,
    now: datetime,
    *,
    everything: bool = False,
    redeliver_after: float | None = None,
) -> int:
    """Tick the due runs (or ``everything`` active) one by one; how many were ticked.

    ``redeliver_after`` (default: the ``redeliver_seconds`` setting) is how long a dispatch
    may wait for a worker before it is sent again.
    """
    timeout = settings.heartbeat_timeout_seconds
    resend = settings.redeliver_seconds if redeliver_after is None else redeliver_after
    with sessions() as db:
        if everything:
            run_ids = active_runs(db)
        else:
            run_ids = due_runs(db, now, timeout, redeliver_after=resend)
    for run_id in run_ids:
        try:
            with sessions() as db:
                effects = tick_run(db, run_id, now, timeout, redeliver_after=resend)
                db.commit()
            deliver(run_id, effects)
        except Exception:
            log.exception("could not tick run %s", run_id)
    return len(run_ids)


class RunTimer:
    """Calls :func:`tick_runs` at start and then every ``tick_seconds``.

    The first tick looks at every active run and sends again every dispatch not started: the
    process has just started, so whatever its executor held before is gone (the local pool's
    queue), and a duplicate of a message still in a broker is dropped by its worker.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        deliver: Deliver,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.deliver = deliver
        self.settings = settings
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="datamill-timer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        ticks = 0
        while True:
            try:
                tick_runs(
                    self.sessions,
                    self.deliver,
                    self.settings,
                    self.clock(),
                    everything=ticks % FULL_SWEEP_EVERY == 0,
                    redeliver_after=0.0 if ticks == 0 else None,
                )
            except Exception:
                log.exception("the run timer failed; trying again at the next tick")
            ticks += 1
            if self._stop.wait(self.settings.tick_seconds):
                return
