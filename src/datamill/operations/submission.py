"""Submitting operations on a dataset: one run, one step per operation, each a future revision.

The run follows a pipeline Datamill writes for it (kept in the run): step ``op_001`` reads the
head revision, each later step the table of the step before, so a recipe of several operations
stops at the first that fails. The run's inputs record what lands where (see
:mod:`datamill.operations.landing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.datasets.revisions import revision_columns, revision_file
from datamill.db.models import Revision
from datamill.operations.base import Operation, Params
from datamill.operations.catalog import check_params, get_operation
from datamill.operations.history import Line, Mode, check_idle, lock_dataset, read_line
from datamill.operations.tasks import TABLE, task_document, task_name
from datamill.pipelines.pipeline import pipeline_from_document
from datamill.pipelines.references import escaped
from datamill.problems import Conflict, Invalid, NotFound, field_error
from datamill.runs.effects import Effect
from datamill.runs.orchestrator import create_dataset_run
from datamill.runs.workdir import stored_path

MAX_STEPS = 500
STEP_NAME = "op_{:03d}"


@dataclass(frozen=True)
class Planned:
    """One operation to apply, its parameters checked."""

    operation: Operation[Any]
    params: Params
    raw: dict[str, Any]
    """The parameters as sent (what the history shows and a recipe replays)."""


def plan_operation(
    name: str, raw: dict[str, Any], revision: Revision, loc: Sequence[str | int]
) -> Planned:
    """The operation ``name`` with ``raw`` checked against ``revision`` (422 naming fields)."""
    operation = get_operation(name, [*loc[:-1], "op"])
    params = check_params(operation, raw, revision_columns(revision), revision.row_count, loc)
    return Planned(operation, params, params.model_dump(mode="json", exclude_unset=True))


def apply_operations(
    db: Session,
    settings: Settings,
    dataset_id: str,
    owner_id: str,
    steps: Sequence[tuple[str, dict[str, Any]]],
    now: datetime,
    base_revision: str | None = None,
    *,
    recipe: bool = False,
) -> tuple[str, list[Effect]]:
    """A run applying ``steps`` (operation name, raw parameters) one after the other from the
    head: its id and effects; the caller commits, then delivers them. Errors name
    ``body.params`` for one operation, ``body.steps.N`` for a ``recipe``.

    ``Conflict`` when ``base_revision`` is given and is not the head, or an operation is
    already running on the dataset; ``Invalid`` for parameters that do not fit the head. Only
    the first step's parameters are checked against a table: later steps meet tables that do
    not exist yet, and fail with their reason if they do not fit.
    """
    if not steps:
        raise Invalid("Give at least one operation.", errors=[field_error(["body"], "empty")])
    if len(steps) > MAX_STEPS:
        raise Invalid(f"At most {MAX_STEPS} operations run at once.")
    line, head = _locked_line(db, dataset_id)
    if base_revision is not None and base_revision != head.id:
        raise Conflict(
            f"Revision {base_revision!r} is no longer the head of this dataset: reload it "
            "and apply the operation to what it is now."
        )
    planned = _checked(steps, head, single=not recipe and len(steps) == 1)
    return _create(db, settings, line, head, head, planned, line.head + 1, "append", owner_id, now)


def edit_step(
    db: Session,
    settings: Settings,
    dataset_id: str,
    owner_id: str,
    position: int,
    params: dict[str, Any],
    now: datetime,
) -> tuple[str, list[Effect]]:
    """A run applying step ``position``'s operation again, with ``params``, on the revision
    before it; when it lands, the later steps become stale and the head moves to it."""
    line, head = _locked_line(db, dataset_id)
    step = line.step(position)
    stale = next((s.position for s in line.steps if s.stale), None)
    if stale is not None and position >= stale:
        raise Conflict(
            f"Step {position} comes after a stale step ({stale}): re-run the stale steps "
            "first, then edit it."
        )
    base = _revision(db, line.revision_at(position - 1))
    planned = [plan_operation(step.operation, params, base, ["body", "params"])]
    return _create(db, settings, line, base, head, planned, position, "edit", owner_id, now)


def rerun_stale(
    db: Session, settings: Settings, dataset_id: str, owner_id: str, now: datetime
) -> tuple[str, list[Effect]]:
    """A run applying every stale step again with its stored parameters, from the first."""
    line, head = _locked_line(db, dataset_id)
    stale = [step for step in line.steps if step.stale]
    if not stale:
        raise Conflict("No step is stale: the history is up to date.")
    first = stale[0].position
    todo = [(s.operation, dict(s.params)) for s in line.steps[first - 1 :]]
    base = _revision(db, line.revision_at(first - 1))
    planned = _checked(todo, base, single=False)
    return _create(db, settings, line, base, head, planned, first, "rerun", owner_id, now)


def _locked_line(db: Session, dataset_id: str) -> tuple[Line, Revision]:
    dataset = lock_dataset(db, dataset_id)
    check_idle(db, dataset_id)
    line = read_line(db, dataset)
    return line, _revision(db, dataset.head_revision_id)


def _revision(db: Session, revision_id: str | None) -> Revision:
    revision = db.get(Revision, revision_id) if revision_id else None
    if revision is None:
        raise NotFound("The dataset has no such revision any more.")
    return revision


def _checked(
    steps: Sequence[tuple[str, dict[str, Any]]], base: Revision, *, single: bool
) -> list[Planned]:
    planned: list[Planned] = []
    for index, (name, raw) in enumerate(steps):
        loc: list[str | int] = ["body", "params"] if single else ["body", "steps", index, "params"]
        if index == 0:
            planned.append(plan_operation(name, raw, base, loc))
            continue
        operation = get_operation(name, [*loc[:-1], "op"])
        try:
            params = operation.params.model_validate(raw)
        except ValidationError as problem:
            errors = [field_error([*loc, *e["loc"]], e["msg"]) for e in problem.errors()]
            raise Invalid(
                f"The parameters of step {index + 1} are not valid.", errors=errors
            ) from None
        planned.append(
            Planned(operation, params, params.model_dump(mode="json", exclude_unset=True))
        )
    return planned


def _create(
    db: Session,
    settings: Settings,
    line: Line,
    base: Revision,
    head: Revision,
    planned: list[Planned],
    start: int,
    mode: Mode,
    owner_id: str,
    now: datetime,
) -> tuple[str, list[Effect]]:
    """The run: ``base`` is what its first step reads, ``head`` what it expects to find when
    that step lands, ``start`` the position it lands at."""
    names = [STEP_NAME.format(i + 1) for i in range(len(planned))]
    steps: dict[str, Any] = {}
    for index, (name, item) in enumerate(zip(names, planned, strict=True)):
        source = TABLE if index == 0 else f"steps.{names[index - 1]}.outputs.{TABLE}"
        reference = f"${{inputs.{TABLE}}}" if index == 0 else f"${{{source}}}"
        steps[name] = {
            "task": task_name(item.operation.name),
            "with": {TABLE: reference, **escaped(item.raw)},
        }
    spec = pipeline_from_document(
        {"name": "dataset-operations", "inputs": {TABLE: {"kind": "table"}}, "steps": steps}
    )
    inputs = {
        TABLE: stored_path(settings.data_dir, revision_file(settings, base)),
        "base_revision": base.id,
        "head_revision": head.id,
        "position": start,
        "mode": mode,
        "steps": [{"operation": p.operation.name, "params": p.raw} for p in planned],
    }
    queue = settings.operations_queue
    pinned = zip(names, planned, strict=True)
    tasks = {name: task_document(item.operation, queue, revision=True) for name, item in pinned}
    return create_dataset_run(db, line.dataset.id, owner_id, spec, tasks, inputs, now)
