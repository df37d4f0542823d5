"""Run and step records: what the database holds about a run, as plain immutable values.

The orchestrator loads a run into these records, hands them to :mod:`datamill.runs.machine`,
and writes back what changed. Keeping them free of the ORM is what lets every rule be tested
without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from datamill.pipelines.graph import FAILED_STATES, Graph, StepState, topological_order

RunState = Literal["queued", "running", "succeeded", "failed", "cancelled"]

TERMINAL_STEP_STATES: frozenset[StepState] = frozenset({"succeeded", *FAILED_STATES})
"""States a step leaves only through a retry."""
TERMINAL_RUN_STATES: frozenset[RunState] = frozenset({"succeeded", "failed", "cancelled"})
"""States a run leaves only through a retry."""


@dataclass(frozen=True)
class StepRecord:
    """One step of a run: its state and the attempt it is on.

    Attempt numbers only ever rise, also across retries, so that a message about an earlier
    attempt can never be mistaken for one about the current attempt.
    """

    name: str
    state: StepState = "queued"
    attempt: int = 0
    """The number of the latest attempt dispatched; 0 before the first dispatch."""
    max_attempts: int = 1
    """The task's retries + 1: how many attempts one round (the first, or one retry) may use."""
    worker: str | None = None
    """The worker that runs (or last ran) the current attempt."""
    next_attempt_at: float | None = None
    """After a failure, the earliest time the next attempt may be dispatched (backoff)."""
    error: str | None = None
    """Why the latest attempt failed; kept while the step waits for its next attempt."""
    dispatched_at: float | None = None
    """When the current attempt was dispatched; None while the step waits for a dispatch."""
    attempts_before: int = 0
    """Attempt numbers used before the last retry: this round's budget counts from here."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """What the step produced, once it succeeded."""
    started_at: float | None = None
    finished_at: float | None = None
    queue: str = "default"
    """The queue of the pinned task, which its dispatches go to."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"step '{self.name}': max_attempts must be at least 1")
        if not 0 <= self.attempts_before <= self.attempt:
            raise ValueError(f"step '{self.name}': attempts_before must be in 0..attempt")

    @property
    def attempts_used(self) -> int:
        """Attempts dispatched in this round."""
        return self.attempt - self.attempts_before

    @property
    def attempts_left(self) -> int:
        """Attempts this round may still dispatch."""
        return self.max_attempts - self.attempts_used

    @property
    def in_flight(self) -> bool:
        """Dispatched and not yet started: a worker may still pick the attempt up."""
        return self.state == "queued" and self.dispatched_at is not None

    @property
    def terminal(self) -> bool:
        """Finished, one way or another: nothing changes it but a retry."""
        return self.state in TERMINAL_STEP_STATES


@dataclass(frozen=True)
class RunRecord:
    """A run: its state, each step's record, and what each step depends on.

    ``graph`` comes from :func:`~datamill.pipelines.graph.step_dependencies`; as there, names
    that are not steps of the graph are ignored.
    """

    state: RunState
    steps: Mapping[str, StepRecord]
    graph: Graph

    def __post_init__(self) -> None:
        if self.steps.keys() != set(self.graph):
            raise ValueError("a run has exactly one record per step of its graph")

    @property
    def terminal(self) -> bool:
        """Finished, one way or another: nothing changes it but a retry."""
        return self.state in TERMINAL_RUN_STATES

    def dependencies(self, step: str) -> list[str]:
        """The steps ``step`` waits for (unknown names left out)."""
        return [dep for dep in self.graph[step] if dep in self.graph]


def new_run(
    graph: Graph,
    max_attempts: Mapping[str, int] | None = None,
    queues: Mapping[str, str] | None = None,
) -> RunRecord:
    """A queued run with every step queued and no attempt dispatched yet.

    ``max_attempts`` gives each step's task ``retries + 1`` (1 where missing), ``queues`` its
    task's queue (``default`` where missing). Raises
    :class:`~datamill.pipelines.graph.CycleError` for a graph no order can run: such a run
    could never end. Call :func:`~datamill.runs.machine.plan` next to dispatch the first steps.
    """
    topological_order(graph)
    limits = max_attempts or {}
    routes = queues or {}
    steps = {
        name: StepRecord(name, max_attempts=limits.get(name, 1), queue=routes.get(name, "default"))
        for name in graph
    }
    return RunRecord("queued", steps, graph)
