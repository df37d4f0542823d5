"""Recording the success of an operation step: its revision lands on the dataset's line.

In the transaction that records the step's success, with the run and then the dataset locked:

1. the dataset's head must still be the revision the step read (the run's base revision for its
   first step, the previous step's revision after that): otherwise someone changed the dataset
   meanwhile, and the step fails saying so — no silent lost update;
2. the step's success is applied; when it is ignored (the attempt was cancelled or superseded)
   nothing lands;
3. the revision's row is inserted and put on the line (:func:`history.land`), and a
   ``dataset.revision`` event is added to the outcome's effects, to go out after the commit.

A file that does not land is removed at once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.db.models import Revision, Run
from datamill.operations import history
from datamill.runs import machine
from datamill.runs.effects import Emit, HeadMoved, Outcome
from datamill.runs.execution import Result
from datamill.runs.orchestrator import LoadedRun, apply, load_run
from datamill.storage.files import remove_quietly


def record_landing(
    db: Session, run_id: str, step: str, attempt: int, result: Result, now: datetime
) -> Outcome:
    """Record the success of an operation step of a run of operations; the caller commits."""
    made = result.revision
    assert made is not None
    loaded = load_run(db, run_id, lock=True)
    dataset = history.lock_dataset(db, made.dataset_id)
    plan, position, expected = _planned(loaded, step)
    if dataset.head_revision_id != expected:
        remove_quietly(Path(made.file))
        reason = (
            "the dataset changed while this operation ran (another operation, an undo or a "
            "redo moved its head): apply it again on the dataset as it is now"
        )
        return apply(db, run_id, machine.failed, step, attempt, reason, now=now)
    outcome = apply(db, run_id, machine.succeeded, step, attempt, result.outputs, now=now)
    if not outcome.applied:
        remove_quietly(Path(made.file))
        return outcome
    owner = db.scalar(select(Run.owner_id).where(Run.id == run_id))
    revision = Revision(
        id=made.id,
        dataset_id=dataset.id,
        number=history.next_number(db, dataset.id),
        parent_id=dataset.head_revision_id,
        path=made.path,
        row_count=made.row_count,
        size_bytes=made.size_bytes,
        columns=made.columns,
        source={"operation": plan["operation"], "params": plan["params"], "run_id": run_id},
        created_by=owner,
        created_at=now,
    )
    db.add(revision)
    db.flush()
    mode: history.Mode = loaded.inputs["mode"]
    history.land(
        db, dataset, revision, plan["operation"], plan["params"], made.changes, position, mode,
        run_id, owner, now,
    )  # fmt: skip
    event = HeadMoved(
        dataset.id,
        revision.id,
        revision.number,
        revision.row_count,
        tuple((c["name"], c["type"]) for c in made.columns),
        now.timestamp(),
    )
    return dataclasses.replace(outcome, effects=(*outcome.effects, Emit(event)))


def _planned(loaded: LoadedRun, step: str) -> tuple[dict[str, Any], int, str | None]:
    """What the step applies, the position it lands at, and the head it expects to find."""
    names = sorted(loaded.steps)
    index = names.index(step)
    plan: dict[str, Any] = loaded.inputs["steps"][index]
    position = int(loaded.inputs["position"]) + index
    if index == 0:
        return plan, position, loaded.inputs["head_revision"]
    previous = loaded.steps[names[index - 1]].outputs
    return plan, position, previous.get("revision")
