"""What a transition asks the outside world to do, and what it reports.

The machine changes nothing itself: it returns the new run record and a list of effects. The
orchestrator writes the record and the effects in one database transaction, then carries the
effects out after the commit, so that an effect is never lost by a crash and never acted on for
a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from datamill.pipelines.graph import StepState
from datamill.runs.records import RunRecord, RunState, StepRecord


@dataclass(frozen=True)
class Dispatch:
    """Send attempt ``attempt`` of ``step`` to a worker serving the step's queue.

    Sending it twice is safe: only the first worker to report ``started`` for the attempt runs
    it (see :func:`~datamill.runs.machine.started`).
    """

    step: str
    attempt: int
    queue: str = "default"
    """The queue of the step's pinned task: only workers serving it may run the attempt."""


@dataclass(frozen=True)
class Terminate:
    """Stop attempt ``attempt`` of ``step`` on ``worker``, if it still runs there.

    The attempt no longer counts: whatever it reports later is ignored. Stopping one that has
    already ended does nothing.
    """

    step: str
    attempt: int
    worker: str


@dataclass(frozen=True)
class StepUpdated:
    """A step's record changed (wire type ``step.updated``)."""

    type: ClassVar[str] = "step.updated"
    step: str
    state: StepState
    attempt: int
    worker: str | None
    error: str | None
    next_attempt_at: float | None
    at: float

    @classmethod
    def of(cls, record: StepRecord, at: float) -> StepUpdated:
        """The event telling that ``record`` is a step's new state."""
        return cls(
            record.name,
            record.state,
            record.attempt,
            record.worker,
            record.error,
            record.next_attempt_at,
            at,
        )


@dataclass(frozen=True)
class RunUpdated:
    """The run's state changed (wire type ``run.updated``)."""

    type: ClassVar[str] = "run.updated"
    state: RunState
    at: float


@dataclass(frozen=True)
class HeadMoved:
    """A step of a run of operations made a revision, now its dataset's head (wire type
    ``dataset.revision``, about the dataset)."""

    type: ClassVar[str] = "dataset.revision"
    dataset: str
    revision: str
    number: int
    rows: int
    columns: tuple[tuple[str, str], ...]
    at: float


Event = StepUpdated | RunUpdated | HeadMoved


@dataclass(frozen=True)
class Emit:
    """Publish ``event`` on the event bus (the orchestrator adds the run's id)."""

    event: Event


Effect = Dispatch | Terminate | Emit


@dataclass(frozen=True)
class Outcome:
    """The result of one transition.

    ``applied`` is False when the transition was ignored: a late or duplicated message, or a
    command that means nothing in the run's state (cancelling a finished run). Then ``run`` is
    the run as it was, and there are no effects. A worker whose ``started`` was not applied
    must not run the attempt.
    """

    run: RunRecord
    effects: tuple[Effect, ...] = ()
    applied: bool = True
    changed: tuple[str, ...] = ()
    """The steps whose record changed: the rows to write."""
    run_changed: bool = False
    """Whether the run's own state changed."""

    @property
    def dispatches(self) -> list[Dispatch]:
        """The :class:`Dispatch` effects, in order."""
        return [effect for effect in self.effects if isinstance(effect, Dispatch)]

    @property
    def terminations(self) -> list[Terminate]:
        """The :class:`Terminate` effects, in order."""
        return [effect for effect in self.effects if isinstance(effect, Terminate)]

    @property
    def events(self) -> list[Event]:
        """The events of the :class:`Emit` effects, in order."""
        return [effect.event for effect in self.effects if isinstance(effect, Emit)]
