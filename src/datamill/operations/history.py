"""A dataset's history: the line of steps from the upload, the head on it, undo, redo, landing.

The line is the ``dataset_steps`` rows in ``position`` order; position 0 is the uploaded
revision (the dataset's first). The head is the revision of one position on the line:

- **undo** moves the head one position back, **redo** one forward (not onto a stale step);
- an operation applied at the head lands at the next position and **drops the redo branch**:
  the steps past the head go (their revisions stay until :func:`purge`);
- **editing** step *k* re-runs it on the revision before it and marks every later step stale;
  **re-running the stale steps** brings them up to date one by one from the head.

Every change of the line or of the head happens with the dataset's row locked, so an operation
landing, an undo and a submission never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.engine import holds_write_lock
from datamill.db.models import Dataset, DatasetStep, Revision, Run
from datamill.problems import Conflict, NotFound
from datamill.runs.orchestrator import ACTIVE_RUN_STATES
from datamill.storage.files import remove_quietly, resolve_inside

Mode = Literal["append", "edit", "rerun"]


@dataclass(frozen=True)
class Line:
    """A dataset's steps in order, its first revision, and where the head is on the line."""

    dataset: Dataset
    root: Revision
    steps: list[DatasetStep]
    head: int
    """The head's position: 0 for the upload, ``n`` for the revision of step ``n``."""

    def revision_at(self, position: int) -> str:
        return self.root.id if position == 0 else self.steps[position - 1].revision_id

    def step(self, position: int) -> DatasetStep:
        if not 1 <= position <= len(self.steps):
            raise NotFound(
                f"Dataset {self.dataset.id!r} has no step {position}; its steps are 1 to "
                f"{len(self.steps)}."
            )
        return self.steps[position - 1]


def lock_dataset(db: Session, dataset_id: str) -> Dataset:
    """The dataset with its row locked until the transaction ends (SQLite: the write lock)."""
    conn = db.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update())
    elif not holds_write_lock(conn):
        conn.execute(update(Dataset).where(Dataset.id == dataset_id).values(id=Dataset.id))
    dataset = db.get(Dataset, dataset_id, populate_existing=True)
    if dataset is None:
        raise NotFound(f"There is no dataset {dataset_id!r}.")
    return dataset


def read_line(db: Session, dataset: Dataset) -> Line:
    root = db.scalar(
        select(Revision).where(Revision.dataset_id == dataset.id).order_by(Revision.number)
    )
    if root is None:
        raise NotFound(f"Dataset {dataset.id!r} has no revision yet.")
    steps = list(
        db.scalars(
            select(DatasetStep)
            .where(DatasetStep.dataset_id == dataset.id)
            .order_by(DatasetStep.position)
        )
    )
    head = 0
    for step in steps:
        if step.revision_id == dataset.head_revision_id:
            head = step.position
    return Line(dataset, root, steps, head)


def active_operation(db: Session, dataset_id: str) -> str | None:
    """The id of a run of operations on the dataset that has not finished, if any."""
    return db.scalar(
        select(Run.id).where(Run.dataset_id == dataset_id, Run.state.in_(ACTIVE_RUN_STATES))
    )


def check_idle(db: Session, dataset_id: str) -> None:
    """``Conflict`` while an operation on the dataset is queued or running."""
    running = active_operation(db, dataset_id)
    if running is not None:
        raise Conflict(
            f"An operation is still running on this dataset (run {running}): wait for it to "
            "finish, or cancel it, then try again."
        )


def move_head(db: Session, dataset_id: str, by: int, now: datetime) -> Revision:
    """Undo (``by=-1``) or redo (``by=1``): the new head revision. The caller commits."""
    dataset = lock_dataset(db, dataset_id)
    check_idle(db, dataset_id)
    line = read_line(db, dataset)
    target = line.head + by
    if target < 0:
        raise Conflict("There is nothing to undo: the head is the uploaded revision.")
    if target > len(line.steps):
        raise Conflict("There is nothing to redo: the head is the newest step.")
    if by > 0 and line.steps[target - 1].stale:
        raise Conflict(
            f"Step {target} is stale (an earlier step was edited after it ran): re-run the "
            "stale steps instead of redoing it."
        )
    revision = db.get(Revision, line.revision_at(target))
    if revision is None:
        raise NotFound(f"The revision of step {target} is gone.")
    dataset.head_revision_id = revision.id
    dataset.updated_at = now
    db.flush()
    return revision


def land(
    db: Session,
    dataset: Dataset,
    revision: Revision,
    operation: str,
    params: dict[str, Any],
    changes: dict[str, Any],
    position: int,
    mode: Mode,
    run_id: str,
    author_id: str | None,
    now: datetime,
) -> None:
    """Put ``revision`` (inserted by the caller) on the line at ``position`` and make it the
    head. ``append`` drops the steps from ``position`` on first; ``edit`` replaces the step
    there and marks the later ones stale; ``rerun`` replaces a stale step. Flushes."""
    values = {
        "operation": operation,
        "params": params,
        "revision_id": revision.id,
        "stale": False,
        "changes": changes,
        "run_id": run_id,
        "updated_at": now,
    }
    mine = DatasetStep.dataset_id == dataset.id
    if mode == "append":
        db.execute(delete(DatasetStep).where(mine, DatasetStep.position >= position))
        db.add(
            DatasetStep(
                dataset_id=dataset.id,
                position=position,
                author_id=author_id,
                created_at=now,
                **values,
            )
        )
    else:
        if mode == "edit":
            values["author_id"] = author_id
            db.execute(
                update(DatasetStep).where(mine, DatasetStep.position > position).values(stale=True)
            )
        db.execute(update(DatasetStep).where(mine, DatasetStep.position == position).values(values))
    dataset.head_revision_id = revision.id
    dataset.updated_at = now
    db.flush()


def next_number(db: Session, dataset_id: str) -> int:
    top = db.scalar(select(func.max(Revision.number)).where(Revision.dataset_id == dataset_id))
    return int(top or 0) + 1


def purge(db: Session, settings: Settings, dataset: Dataset) -> list[Path]:
    """Delete the revisions that are on no step of the line and are not the upload or the head
    (what undo and a later operation left behind); their files, to remove after the commit."""
    line = read_line(db, dataset)
    kept = {line.root.id, dataset.head_revision_id, *(s.revision_id for s in line.steps)}
    candidates = db.scalars(
        select(Revision).where(Revision.dataset_id == dataset.id, Revision.id.not_in(kept))
    )
    used = _paths_in_use(db, dataset.id)
    gone = [r for r in candidates if f"revisions/{r.path}" not in used]
    files = [resolve_inside(settings.revisions_dir, r.path) for r in gone]
    for revision in gone:
        db.delete(revision)
    db.flush()
    return files


def _paths_in_use(db: Session, dataset_id: str) -> set[str]:
    """The stored paths of this dataset's revisions that runs not finished yet read: a
    pipeline run given the dataset as an input keeps the path of its head at submission."""
    prefix = f"revisions/{dataset_id}/"
    found: set[str] = set()
    for inputs in db.scalars(select(Run.inputs).where(Run.state.in_(ACTIVE_RUN_STATES))):
        found.update(value for value in _strings(inputs) if value.startswith(prefix))
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def remove_files(files: Sequence[Path]) -> None:
    for path in files:
        remove_quietly(path)
