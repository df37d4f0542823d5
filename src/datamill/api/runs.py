"""Runs: submit one (a pipeline as a web service), list and read them, follow a step's log,
cancel, retry, download artifacts and keep a table artifact as a dataset.

A member sees and acts on their own runs only; admins on everyone's. A route that changes a run
commits, then carries out the run's effects (dispatches, events) through ``ctx.deliver``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from datamill.api.deps import ContextDep, CurrentUser, SessionDep, release
from datamill.api.params import Limit, Offset
from datamill.api.run_forms import is_multipart, json_submission, read_form_submission
from datamill.api.specs import NAME_PATTERN, PipelineName
from datamill.context import AppContext
from datamill.db.models import Run, User, utcnow
from datamill.runs import artifact_files, control, logs, queries
from datamill.runs.effects import Effect
from datamill.runs.submission import RunRequest, pipeline_for_run, submit_run
from datamill.schemas.common import ListReply
from datamill.schemas.datasets import DatasetPublic
from datamill.schemas.runs import ArtifactDataset, RunAccepted, RunDetail, RunPublic

router = APIRouter(tags=["runs"])

RUN_STATES = "queued|running|succeeded|failed|cancelled"
SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "params": {"type": "object"},
                        "inputs": {
                            "type": "object",
                            "description": 'Values, or {"dataset": "<id>"} for a table input.',
                        },
                        "version": {"type": "integer", "minimum": 1},
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "One file part per file or table input, named after it.",
                    "properties": {
                        "params": {"type": "string", "description": "JSON object"},
                        "inputs": {"type": "string", "description": "JSON object"},
                        "version": {"type": "integer"},
                    },
                }
            },
        },
    }
}


def _run_for_user(run_id: str, user: CurrentUser, db: SessionDep) -> Run:
    return queries.visible_run(db, user, run_id)


RunForUser = Annotated[Run, Depends(_run_for_user)]
StepName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="A step name, as in the pipeline's spec.")
]


def _check_pipeline(ctx: AppContext, name: str, user: User) -> None:
    with ctx.sessions() as db:
        pipeline_for_run(db, name, user, ctx.settings)


def _deliver(ctx: AppContext, run_id: str, effects: Sequence[Effect]) -> None:
    if ctx.deliver is not None:
        ctx.deliver(run_id, effects)


@router.post(
    "/pipelines/{name}/runs",
    status_code=202,
    operation_id="submit_run",
    summary="Run a pipeline",
    openapi_extra=SUBMIT_BODY,
)
async def submit(
    request: Request,
    response: Response,
    name: PipelineName,
    user: CurrentUser,
    ctx: ContextDep,
) -> RunAccepted:
    """Validate the parameters and inputs and queue a run: 202 with its id at once, 422 listing
    every failing parameter, input and validator, 429 (`Retry-After`) beyond a member's active
    runs."""
    settings = ctx.settings
    if is_multipart(request):
        # The pipeline and fair use are judged before a byte of the upload is read.
        await run_in_threadpool(_check_pipeline, ctx, name, user)
        sent = await read_form_submission(request, settings.tmp_dir, settings.max_upload_bytes)
        read: Callable[[], RunRequest] = lambda: sent  # noqa: E731
    else:
        sent = RunRequest()
        body = await request.body()  # at most 1 MB (BodyLimit); parsed once the pipeline is found
        read = lambda: json_submission(body)  # noqa: E731

    def submit_and_deliver() -> str:
        # Off the event loop: the database, a broker send, a Redis publish or the local pool's
        # lock can block, and on the loop that would stall every request and WebSocket of the
        # process meanwhile. One trip to the thread pool for all of it: each trip costs more
        # than a no-op run's own work.
        run_id, effects = submit_run(ctx.sessions, settings, ctx.duck, user, name, read, utcnow())
        _deliver(ctx, run_id, effects)
        return run_id

    try:
        run_id = await run_in_threadpool(submit_and_deliver)
    finally:
        sent.discard()
    url = f"/api/v1/runs/{run_id}"
    response.headers["Location"] = url
    return RunAccepted(run_id=run_id, state="queued", url=url)


@router.get("/runs", operation_id="list_runs", summary="List runs")
def list_(
    user: CurrentUser,
    db: SessionDep,
    pipeline: Annotated[str | None, Query(max_length=64, description="A pipeline name.")] = None,
    state: Annotated[str | None, Query(pattern=f"^({RUN_STATES})$")] = None,
    owner: Annotated[str | None, Query(max_length=64, description="A username.")] = None,
    dataset: Annotated[
        str | None, Query(max_length=36, description="A dataset id: its cleaning operations.")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ListReply[RunPublic]:
    """Runs newest first: yours (admins: everyone's, or `owner`'s)."""
    filters = queries.RunFilters(pipeline=pipeline, dataset=dataset, state=state, owner=owner)
    items, total = queries.list_runs(db, user, filters, offset, limit)
    return ListReply(data=items, count=total)


@router.get("/runs/{run_id}", operation_id="get_run", summary="Get a run")
def get(run: RunForUser, db: SessionDep) -> RunDetail:
    """The run, each step (state, attempts, worker, times, outputs) and its artifacts."""
    return queries.run_detail(db, run)


@router.post(
    "/runs/{run_id}/cancel", status_code=202, operation_id="cancel_run", summary="Cancel a run"
)
def cancel(run: RunForUser, db: SessionDep, ctx: ContextDep) -> RunDetail:
    """Stop the running steps and cancel the rest; 409 for a run that has finished."""
    effects = control.cancel_run(db, run.id, utcnow())
    db.commit()
    _deliver(ctx, run.id, effects)
    return queries.run_detail(db, run)


@router.post(
    "/runs/{run_id}/retry", status_code=202, operation_id="retry_run", summary="Retry a run"
)
def retry(run: RunForUser, db: SessionDep, ctx: ContextDep) -> RunDetail:
    """Run again the failed, cancelled and upstream-failed steps (succeeded steps keep their
    outputs); 409 when there is nothing to retry."""
    effects = control.retry_run(db, run.id, utcnow())
    db.commit()
    _deliver(ctx, run.id, effects)
    return queries.run_detail(db, run)


@router.get(
    "/runs/{run_id}/steps/{step}/log",
    operation_id="get_step_log",
    summary="Get a step's log",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def log(
    run: RunForUser,
    step: StepName,
    db: SessionDep,
    ctx: ContextDep,
    request: Request,
    attempt: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    follow: bool = False,
) -> Response:
    """The log (stdout, then stderr) of an attempt, by default the step's latest; with
    `follow=true` the reply keeps streaming while the attempt runs."""
    found = logs.step_log(db, ctx.settings, run, step, attempt, follow=follow)
    release(db)
    if not follow:
        return PlainTextResponse(found.path.read_bytes())
    return StreamingResponse(
        logs.follow_log(ctx.sessions, found, request.is_disconnected),
        media_type="text/plain; charset=utf-8",
    )


@router.get(
    "/runs/{run_id}/artifacts/{artifact_id}",
    operation_id="download_artifact",
    summary="Download an artifact",
    response_class=FileResponse,
)
def download_artifact(
    run: RunForUser, artifact_id: str, db: SessionDep, ctx: ContextDep
) -> FileResponse:
    """The file a step produced (a table artifact is a Parquet file)."""
    path, filename = artifact_files.artifact_file(db, ctx.settings, run, artifact_id)
    return FileResponse(path, filename=filename, media_type="application/octet-stream")


@router.post(
    "/runs/{run_id}/artifacts/{artifact_id}/dataset",
    status_code=201,
    operation_id="save_artifact_as_dataset",
    summary="Save a table artifact as a dataset",
)
def save_artifact(
    run: RunForUser,
    artifact_id: str,
    body: ArtifactDataset,
    user: CurrentUser,
    db: SessionDep,
    ctx: ContextDep,
) -> DatasetPublic:
    """A new dataset of yours whose first revision is the table a step produced (422 for an
    artifact that is not a table)."""
    return artifact_files.artifact_dataset(
        db, ctx.settings, ctx.duck, user, run, artifact_id, body.name
    )
