"""Cleaning operations: the catalogue, applying one to a dataset, its history, undo and redo.

Applying, editing a step and re-running stale steps answer 202 with a run id at once: the
operation runs on the executor like any step, and its revision arrives as a
``dataset.revision`` event (and in ``GET .../history``). Only the dataset's owner may change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from datamill.api.deps import (
    ContextDep,
    CurrentUser,
    DatasetForRead,
    DatasetForWrite,
    SessionDep,
)
from datamill.api.pipelines import pipeline_detail, pipeline_submission
from datamill.api.specs import committed
from datamill.context import AppContext
from datamill.db.models import User, utcnow
from datamill.events.messages import revision_message
from datamill.operations import history, submission
from datamill.operations.catalog import OPERATIONS, describe
from datamill.operations.queries import dataset_history, dataset_recipe, recipe_pipeline
from datamill.pipelines import store as pipeline_store
from datamill.problems import Invalid, field_error
from datamill.runs.effects import Effect
from datamill.runs.submission import check_fair_use, lock_user
from datamill.schemas.common import ListReply
from datamill.schemas.datasets import RevisionPublic
from datamill.schemas.operations import (
    History,
    OperationApply,
    OperationPublic,
    Purged,
    Recipe,
    RecipePublish,
    StepEdit,
)
from datamill.schemas.pipelines import PipelineDetail
from datamill.schemas.runs import RunAccepted

router = APIRouter(tags=["operations"])

Position = Annotated[int, Path(ge=1, le=1_000_000, description="A step's position, from 1.")]


@router.get("/operations", operation_id="list_operations", summary="List operations")
async def list_(user: CurrentUser) -> ListReply[OperationPublic]:
    """Every cleaning operation with its parameters' JSON Schema, a description and an example."""
    items = [OperationPublic(**describe(op)) for op in OPERATIONS.values()]
    return ListReply(data=items, count=len(items))


Submit = Callable[[Session, datetime], tuple[str, list[Effect]]]
"""Creates a run in the session given (not committed): its id and first effects."""


async def _queue(ctx: AppContext, user: User, response: Response, submit: Submit) -> RunAccepted:
    """Run ``submit(db, now)`` in a transaction with the member's fair use checked, commit,
    deliver the effects: 202 with the run."""

    def queue() -> str:
        with ctx.sessions() as db:
            lock_user(db, user)
            check_fair_use(db, user, ctx.settings.max_active_runs)
            run_id, effects = submit(db, utcnow())
            db.commit()
        if ctx.deliver is not None:
            ctx.deliver(run_id, effects)
        return run_id

    run_id = await run_in_threadpool(queue)
    url = f"/api/v1/runs/{run_id}"
    response.headers["Location"] = url
    return RunAccepted(run_id=run_id, state="queued", url=url)


@router.post(
    "/datasets/{dataset_id}/operations",
    status_code=202,
    operation_id="apply_operation",
    summary="Apply an operation",
)
async def apply(
    body: OperationApply,
    dataset: DatasetForWrite,
    user: CurrentUser,
    ctx: ContextDep,
    response: Response,
) -> RunAccepted:
    """Queue the operation on the head revision: 202 with the run id; 422 naming each bad
    parameter (an unknown column too); 409 when `base_revision` is not the head any more or
    another operation is still running on the dataset."""
    return await _queue(
        ctx,
        user,
        response,
        lambda db, now: submission.apply_operations(
            db,
            ctx.settings,
            dataset.id,
            user.id,
            [(body.op, body.params)],
            now,
            base_revision=body.base_revision,
        ),
    )


@router.get("/datasets/{dataset_id}/history", operation_id="get_history", summary="History")
def get_history(dataset: DatasetForRead, db: SessionDep) -> History:
    """Every step from the upload: operation, parameters, author, time, revision, what changed,
    and whether it is stale; where the head is, and whether undo and redo can move it."""
    return dataset_history(db, dataset)


def _move(ctx: AppContext, dataset_id: str, by: int) -> RevisionPublic:
    with ctx.sessions() as db:
        now = utcnow()
        head = history.move_head(db, dataset_id, by, now)
        db.commit()
        ctx.bus.publish(revision_message(head, now.timestamp()))
        return RevisionPublic.model_validate(head)


@router.post("/datasets/{dataset_id}/undo", operation_id="undo", summary="Undo")
async def undo(dataset: DatasetForWrite, ctx: ContextDep) -> RevisionPublic:
    """Move the head one step back: the new head revision. 409 at the upload, or while an
    operation runs."""
    return await run_in_threadpool(_move, ctx, dataset.id, -1)


@router.post("/datasets/{dataset_id}/redo", operation_id="redo", summary="Redo")
async def redo(dataset: DatasetForWrite, ctx: ContextDep) -> RevisionPublic:
    """Move the head one step forward again: the new head revision. 409 at the newest step,
    onto a stale step, or while an operation runs."""
    return await run_in_threadpool(_move, ctx, dataset.id, 1)


@router.put(
    "/datasets/{dataset_id}/history/{position}",
    status_code=202,
    operation_id="edit_step",
    summary="Edit a step's parameters",
)
async def edit(
    position: Position,
    body: StepEdit,
    dataset: DatasetForWrite,
    user: CurrentUser,
    ctx: ContextDep,
    response: Response,
) -> RunAccepted:
    """Run the step again with new parameters on the revision before it; when it lands, the
    head moves to it and every later step becomes stale."""
    return await _queue(
        ctx,
        user,
        response,
        lambda db, now: submission.edit_step(
            db, ctx.settings, dataset.id, user.id, position, body.params, now
        ),
    )


@router.post(
    "/datasets/{dataset_id}/history/rerun",
    status_code=202,
    operation_id="rerun_stale_steps",
    summary="Re-run stale steps",
)
async def rerun(
    dataset: DatasetForWrite, user: CurrentUser, ctx: ContextDep, response: Response
) -> RunAccepted:
    """Apply every stale step again with its stored parameters, in order (one run)."""
    return await _queue(
        ctx,
        user,
        response,
        lambda db, now: submission.rerun_stale(db, ctx.settings, dataset.id, user.id, now),
    )


@router.get("/datasets/{dataset_id}/recipe", operation_id="export_recipe", summary="Recipe")
def recipe(dataset: DatasetForRead, db: SessionDep) -> Recipe:
    """The operations from the upload to the head, in order, with their parameters: JSON to
    keep, share, and replay on another dataset."""
    return Recipe.model_validate(dataset_recipe(db, dataset))


@router.post(
    "/datasets/{dataset_id}/recipe",
    status_code=202,
    operation_id="replay_recipe",
    summary="Replay a recipe",
)
async def replay(
    body: Recipe,
    dataset: DatasetForWrite,
    user: CurrentUser,
    ctx: ContextDep,
    response: Response,
) -> RunAccepted:
    """Apply a recipe's operations to this dataset in one run, a revision per step; the run
    stops at the first step that fails, with its reason. 422 for an unknown operation or
    parameters that do not fit (the first step's are checked against the head)."""
    steps = [(step.op, step.params) for step in body.steps]
    return await _queue(
        ctx,
        user,
        response,
        lambda db, now: submission.apply_operations(
            db, ctx.settings, dataset.id, user.id, steps, now, recipe=True
        ),
    )


@router.post(
    "/datasets/{dataset_id}/recipe/pipeline",
    status_code=201,
    operation_id="publish_recipe",
    summary="Publish a recipe as a pipeline",
)
def publish(
    body: RecipePublish, dataset: DatasetForRead, user: CurrentUser, db: SessionDep
) -> PipelineDetail:
    """Save the dataset's recipe as a pipeline (a new one, or the next version of yours): each
    operation a step of its built-in `op-*` task, a table in and out, so that the same cleaning
    runs as a web service on new uploads."""
    found = dataset_recipe(db, dataset)
    if not found["steps"]:
        raise Invalid(
            "The dataset has no operation to publish: its head is the upload.",
            errors=[field_error(["body"], "the recipe is empty")],
        )
    document = recipe_pipeline(found, body.name, body.description)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    submission = pipeline_submission(user, text, db)
    with committed(db, "The pipeline was saved by someone else at the same moment; try again."):
        version = pipeline_store.save_pipeline(db, submission.spec, submission.text, user)
    return pipeline_detail(version.pipeline, version)


@router.post("/datasets/{dataset_id}/purge", operation_id="purge_revisions", summary="Purge")
def purge(dataset: DatasetForWrite, db: SessionDep, ctx: ContextDep) -> Purged:
    """Delete the revisions no longer on the history (dropped redo branches, replaced edits)."""
    locked = history.lock_dataset(db, dataset.id)
    history.check_idle(db, dataset.id)
    files = history.purge(db, ctx.settings, locked)
    db.commit()
    for path in files:
        ctx.rows.forget(path)
    history.remove_files(files)
    return Purged(removed=len(files))
