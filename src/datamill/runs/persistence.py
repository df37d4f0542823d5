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

from datetime import UTC, datetime
from typing import Any

from datamill.db.models import Run, RunStep
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


def step_record(row: RunStep) -> StepRecord:
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


def write_step(row: RunStep, record: StepRecord) -> None:
    row.state = record.state
    row.attempt = record.attempt
    row.max_attempts = record.attempts_before + record.max_attempts
    row.worker_id = record.worker
    row.next_attempt_at = to_datetime(record.next_attempt_at)
    row.error = record.error
    row.queued_at = to_datetime(record.dispatched_at)
    row.outputs = dict(record.outputs)
    row.started_at = to_datetime(record.started_at)
    row.finished_at = to_datetime(record.finished_at)


def write_run(run: Run, record: RunRecord, now: datetime) -> None:
    """The run's state, when it first ran, when it ended, and why it failed."""
    run.state = record.state
    if run.started_at is None and record.state in _HAS_RUN:
        run.started_at = now
    finished = record.state in TERMINAL_RUN_STATES
    if not finished:
        run.finished_at = None
    elif run.finished_at is None:
        run.finished_at = now
    run.error = _run_error(record) if record.state == "failed" else None


def _run_error(record: RunRecord) -> str | None:
    for name, step in record.steps.items():
        if step.state == "failed":
            return f"step '{name}' failed: {step.error or 'no reason given'}"
    return None
