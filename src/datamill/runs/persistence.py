"""Run rows to run records and back: the one place that knows how the machine's fields are stored.

Times are aware datetimes in the database and seconds since the epoch in the records. Two record
fields have no column of their own:

- ``dispatched_at`` is kept in ``RunStep.queued_at`` (when the current attempt was queued for a
  worker; empty while the step waits for a dispatch).
- ``attempts_before`` is kept through ``RunStep.max_attempts``, which holds the highest attempt
  number the current round may reach (as the model says: attempts go "up to max_attempts"). The
  budget of one round is the pinned task's ``retries + 1``, so ``attempts_before`` is the
  difference. Before any retry the two are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datamill.runs.records import TERMINAL_RUN_STATES, RunRecord, RunState, StepRecord

_HAS_RUN: frozenset[RunState] = frozenset({"running", "succeeded", "failed"})
"""Run states that show a step has started (a run cancelled while queued never ran)."""


def to_timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def to_datetime(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def round_budget(task: dict[str, Any]) -> int:
    """Attempts one round of a step may use: its pinned task's retries plus one."""
    return int(task.get("retries", 0)) + 1


@dataclass(frozen=True)
class StepRow:
    """The columns of a ``run_steps`` row that the orchestrator reads."""

    id: str
    name: str
    task: dict[str, Any]
    state: str
    attempt: int
    max_attempts: int
    queue: str
    worker_id: str | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    outputs: dict[str, Any]
    error: str | None


def step_record(row: StepRow) -> StepRecord:
    budget = round_budget(row.task)
    return StepRecord(
        row.name,
        state=row.state,  # type: ignore[arg-type]  # the column holds only StepState values
        attempt=row.attempt,
        max_attempts=budget,
        worker=row.worker_id,
        next_attempt_at=to_timestamp(row.next_attempt_at),
        error=row.error,
        dispatched_at=to_timestamp(row.queued_at),
        attempts_before=min(max(row.max_attempts - budget, 0), row.attempt),
        outputs=dict(row.outputs),
        started_at=to_timestamp(row.started_at),
        finished_at=to_timestamp(row.finished_at),
        queue=row.queue,
    )


def step_values(record: StepRecord) -> dict[str, Any]:
    """The ``run_steps`` columns that hold ``record`` (all of them: a step row is small)."""
    return {
        "state": record.state,
        "attempt": record.attempt,
        "max_attempts": record.attempts_before + record.max_attempts,
        "worker_id": record.worker,
        "next_attempt_at": to_datetime(record.next_attempt_at),
        "error": record.error,
        "queued_at": to_datetime(record.dispatched_at),
        "outputs": dict(record.outputs),
        "started_at": to_datetime(record.started_at),
        "finished_at": to_datetime(record.finished_at),
    }


@dataclass(frozen=True)
class RunStamps:
    """What a run row says of its state and times, as read; :func:`run_values` compares with it."""

    state: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


def run_values(before: RunStamps, record: RunRecord, now: datetime) -> dict[str, Any]:
    """The ``runs`` columns to change so that the row holds ``record``'s state: when it first
    ran, when it ended, and why it failed. Empty when the row already does: most transitions
    change a step and leave the run as it was, and then its row is not written."""
    finished = record.state in TERMINAL_RUN_STATES
    wanted = RunStamps(
        state=record.state,
        started_at=before.started_at
        if before.started_at is not None or record.state not in _HAS_RUN
        else now,
        finished_at=(before.finished_at or now) if finished else None,
        error=_run_error(record) if record.state == "failed" else None,
    )
    return {
        name: getattr(wanted, name)
        for name in ("state", "started_at", "finished_at", "error")
        if getattr(wanted, name) != getattr(before, name)
    }


def _run_error(record: RunRecord) -> str | None:
    for name, step in record.steps.items():
        if step.state == "failed":
            return f"step '{name}' failed: {step.error or 'no reason given'}"
    return None
