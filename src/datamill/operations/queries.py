"""Reading a dataset's history for the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.db.models import Dataset, Revision, User
from datamill.operations.history import active_operation, read_line
from datamill.operations.tasks import TABLE, task_name
from datamill.pipelines.references import escaped
from datamill.schemas.operations import History, HistoryStep


def dataset_recipe(db: Session, dataset: Dataset) -> dict[str, Any]:
    """The steps from the upload to the head as a recipe (operation and parameters)."""
    line = read_line(db, dataset)
    steps = [{"op": s.operation, "params": s.params} for s in line.steps[: line.head]]
    return {"datamill_recipe": 1, "dataset": dataset.name, "steps": steps}


def dataset_history(db: Session, dataset: Dataset) -> History:
    """The upload and every step, in order, with where the head is."""
    line = read_line(db, dataset)
    ids = [line.root.id, *(step.revision_id for step in line.steps)]
    found = db.execute(select(Revision.id, Revision.number).where(Revision.id.in_(ids)))
    numbers = {revision_id: number for revision_id, number in found}
    root = line.root
    uploader = db.get(User, root.created_by) if root.created_by else None
    steps = [
        HistoryStep(
            position=0,
            operation=None,
            params={},
            revision_id=root.id,
            revision_number=root.number,
            stale=False,
            changes={"rows_after": root.row_count, "source": root.source},
            author=uploader.username if uploader else None,
            run_id=None,
            created_at=root.created_at,
            updated_at=root.created_at,
        )
    ]
    steps.extend(
        HistoryStep(
            position=step.position,
            operation=step.operation,
            params=step.params,
            revision_id=step.revision_id,
            revision_number=numbers.get(step.revision_id),
            stale=step.stale,
            changes=step.changes,
            author=step.author.username if step.author else None,
            run_id=step.run_id,
            created_at=step.created_at,
            updated_at=step.updated_at,
        )
        for step in line.steps
    )
    following = line.steps[line.head] if line.head < len(line.steps) else None
    return History(
        dataset_id=dataset.id,
        head=line.head,
        head_revision_id=line.revision_at(line.head),
        can_undo=line.head > 0,
        can_redo=following is not None and not following.stale,
        running=active_operation(db, dataset.id),
        steps=steps,
    )


def recipe_pipeline(recipe: dict[str, Any], name: str, description: str | None) -> dict[str, Any]:
    """A pipeline running a recipe's operations, one step each, on a table input: the same
    cleaning as a web service (``POST /api/v1/pipelines/{name}/runs`` with a new upload)."""
    steps: dict[str, Any] = {}
    previous: str | None = None
    for index, step in enumerate(recipe["steps"], start=1):
        step_name = f"step_{index:03d}"
        source = "${inputs.table}" if previous is None else f"${{steps.{previous}.outputs.table}}"
        steps[step_name] = {
            "task": task_name(step["op"]),
            "with": {TABLE: source, **escaped(step["params"])},
        }
        previous = step_name
    about = f"The cleaning recipe of the dataset {recipe['dataset']!r}: "
    about += ", ".join(step["op"] for step in recipe["steps"]) + "."
    return {
        "name": name,
        "description": description if description is not None else about,
        "inputs": {TABLE: {"kind": "table", "description": "The table to clean."}},
        "steps": steps,
        "outputs": {TABLE: f"${{steps.{previous}.outputs.table}}"},
    }
