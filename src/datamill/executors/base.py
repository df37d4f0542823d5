"""What the orchestrator needs from an executor: transport for step attempts, nothing more.

The database is the truth (see ``DESIGN.md``): an executor only carries ``Dispatch`` and
``Terminate`` effects to workers. Both must be safe to repeat; a worker claims an attempt with
the ``started`` transition before running it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from datamill.events.bus import EventBus
from datamill.events.messages import run_message
from datamill.runs.effects import Dispatch, Effect, Emit, Outcome, Terminate

log = logging.getLogger("datamill.executors")


class Executor(Protocol):
    def dispatch(self, run_id: str, step: str, attempt: int, queue: str) -> None:
        """Send attempt ``attempt`` of ``step`` to a worker serving ``queue``."""

    def terminate(self, run_id: str, step: str, attempt: int, worker: str) -> None:
        """Stop that attempt on ``worker`` if it still runs there; else do nothing."""

    def close(self) -> None:
        """Stop the executor's own threads and processes (not remote workers)."""


Deliver = Callable[[str, Sequence[Effect]], None]
"""Carries out a run's effects after the transaction that recorded them committed."""


def deliverer(executor: Executor, bus: EventBus) -> Deliver:
    """The function that carries a run's effects to ``executor`` and ``bus``."""

    def deliver(run_id: str, effects: Sequence[Effect]) -> None:
        # Events first, so that they leave in the order of the transitions (a dispatch can
        # lead to the next transition at once); a failure to publish must not cost a dispatch
        # or a termination, which nothing would send again.
        try:
            bus.publish(*(run_message(run_id, e.event) for e in effects if isinstance(e, Emit)))
        except Exception:
            log.exception("could not publish the events of run %s", run_id)
        for effect in effects:
            if isinstance(effect, Dispatch):
                executor.dispatch(run_id, effect.step, effect.attempt, effect.queue)
            elif isinstance(effect, Terminate):
                executor.terminate(run_id, effect.step, effect.attempt, effect.worker)

    return deliver


def deliver_outcome(deliver: Deliver, run_id: str) -> Callable[[Outcome], None]:
    """``deliver`` for the outcomes of one run, as ``execute_attempt(on_commit=...)`` takes."""
    return lambda outcome: deliver(run_id, outcome.effects)


class NoExecutor:
    """No workers of its own: dispatches wait in the database for the timer to resend them.

    The executor of a local pool with 0 workers, and of processes (tests, CLI commands) that
    change runs without running steps.
    """

    def dispatch(self, run_id: str, step: str, attempt: int, queue: str) -> None:
        return None

    def terminate(self, run_id: str, step: str, attempt: int, worker: str) -> None:
        return None

    def close(self) -> None:
        return None
