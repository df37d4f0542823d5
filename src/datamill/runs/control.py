"""Cancelling and retrying a run on a caller's request.

Both apply a transition of the machine to the locked run and write it; the route commits, then
carries out the effects (terminations, dispatches, events). A request that means nothing in the
run's state is a 409 saying why, never a silent success.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from datamill.problems import Conflict
from datamill.runs import machine
from datamill.runs.effects import Effect
from datamill.runs.orchestrator import apply


def cancel_run(db: Session, run_id: str, now: datetime) -> list[Effect]:
    """Stop the running steps and cancel those not finished; 409 for a finished run."""
    outcome = apply(db, run_id, machine.cancel, now=now)
    if not outcome.applied:
        raise Conflict(
            f"The run has already {_ended(outcome.run.state)}; there is nothing to cancel."
        )
    return list(outcome.effects)


def retry_run(db: Session, run_id: str, now: datetime) -> list[Effect]:
    """Run again the failed, cancelled and upstream-failed steps; 409 when there are none."""
    outcome = apply(db, run_id, machine.retry, now=now)
    if not outcome.applied:
        raise Conflict(
            f"The run {_state_phrase(outcome.run.state)} and none of its steps failed or was "
            "cancelled; there is nothing to retry."
        )
    return list(outcome.effects)


def _ended(state: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed", "cancelled": "been cancelled"}.get(
        state, f"ended ({state})"
    )


def _state_phrase(state: str) -> str:
    """``has succeeded`` / ``is running``: a run's state in a sentence."""
    return f"is {state}" if state in {"queued", "running"} else f"has {state}"
