"""Reading runs for the API: who may see which, lists with filters, and one run in detail.

A member sees only their own runs and an admin sees everyone's; a run someone may not see is
answered as if it did not exist (404), so that ids do not leak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from datamill.db.models import (
    Artifact,
    Pipeline,
    PipelineVersion,
    Run,
    RunStep,
    User,
    Worker,
    looks_like_id,
)
from datamill.pipelines.graph import step_dependencies
from datamill.pipelines.pipeline import PipelineSpec
from datamill.pipelines.references import UnresolvedReference, resolve
from datamill.pipelines.store import own_spec, pipeline_spec
from datamill.problems import NotFound
from datamill.schemas.runs import (
    ArtifactPublic,
    RunDetail,
    RunPublic,
    StepPublic,
    WorkerRef,
)


@dataclass(frozen=True)
class RunFilters:
    pipeline: str | None = None
    dataset: str | None = None
    state: str | None = None
    owner: str | None = None


def visible_run(db: Session, user: User, run_id: str) -> Run:
    """The run, if ``user`` may see it (its owner, or an admin); otherwise 404."""
    run = db.get(Run, run_id) if looks_like_id(run_id) else None
    if run is None or not (user.is_admin or run.owner_id == user.id):
        raise NotFound(f"There is no run {run_id!r} that you can see.")
    return run


def _listed() -> Select[Run, str | None, int | None, str]:
    """Runs with their pipeline's name and version (none for a run of dataset operations)."""
    return (
        select(Run, Pipeline.name, PipelineVersion.version, User.username)
        .outerjoin(Pipeline, Pipeline.id == Run.pipeline_id)
        .outerjoin(PipelineVersion, PipelineVersion.id == Run.pipeline_version_id)
        .join(User, User.id == Run.owner_id)
    )


def _public(run: Run, pipeline: str | None, version: int | None, owner: str) -> RunPublic:
    return RunPublic(
        id=run.id,
        pipeline=pipeline,
        version=version,
        dataset=run.dataset_id,
        owner=owner,
        state=run.state,
        params=run.params,
        inputs=run.inputs,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def list_runs(
    db: Session, user: User, filters: RunFilters, offset: int, limit: int
) -> tuple[list[RunPublic], int]:
    """Runs newest first; a member's list holds their own runs only, whatever ``owner`` says."""
    where = []
    if not user.is_admin:
        where.append(Run.owner_id == user.id)
    if filters.owner is not None:
        where.append(User.username == filters.owner)
    if filters.pipeline is not None:
        where.append(Pipeline.name == filters.pipeline)
    if filters.dataset is not None:
        where.append(Run.dataset_id == filters.dataset)
    if filters.state is not None:
        where.append(Run.state == filters.state)
    query = _listed().where(*where)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(Run.created_at.desc(), Run.id).offset(offset).limit(limit))
    return [_public(run, name, number, owner) for run, name, number, owner in rows], total


def run_detail(db: Session, run: Run) -> RunDetail:
    """The run with each step (in the pipeline's order), its outputs so far and its artifacts."""
    version = db.get(PipelineVersion, run.pipeline_version_id) if run.pipeline_version_id else None
    pipeline = db.get(Pipeline, run.pipeline_id) if run.pipeline_id else None
    owner = db.get(User, run.owner_id)
    if owner is None or (run.spec is None and (version is None or pipeline is None)):
        raise NotFound(f"The pipeline of run {run.id!r} is gone.")
    spec = pipeline_spec(version) if version is not None else own_spec(run.id, run.spec or {})
    graph = step_dependencies(spec)
    rows = {
        row.name: row
        for row in db.scalars(
            select(RunStep)
            .where(RunStep.run_id == run.id)
            .execution_options(populate_existing=True)
        )
    }
    workers = _workers(db, [row.worker_id for row in rows.values() if row.worker_id])
    order = [name for name in graph if name in rows] + sorted(set(rows) - set(graph))
    steps = [_step(rows[name], graph.get(name, ()), workers) for name in order]
    artifacts = db.scalars(
        select(Artifact)
        .where(Artifact.run_id == run.id)
        .order_by(Artifact.step_name, Artifact.name, Artifact.id)
    )
    finished = {name: row.outputs for name, row in rows.items() if row.state == "succeeded"}
    return RunDetail(
        **_public(
            run,
            pipeline.name if pipeline else None,
            version.version if version else None,
            owner.username,
        ).model_dump(),
        outputs=run_outputs(spec, run, finished),
        steps=steps,
        artifacts=[
            ArtifactPublic(
                id=a.id, step=a.step_name, name=a.name, kind=a.kind, size_bytes=a.size_bytes
            )
            for a in artifacts
        ],
    )


def run_outputs(
    spec: PipelineSpec, run: Run, finished: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The pipeline's declared outputs that have a value: a step output appears once its step
    has succeeded."""
    outputs: dict[str, Any] = {}
    for name, reference in spec.outputs.items():
        try:
            outputs[name] = resolve(reference, inputs=run.inputs, params=run.params, steps=finished)
        except UnresolvedReference:
            continue
    return outputs


def _workers(db: Session, ids: Sequence[str]) -> dict[str, Worker]:
    if not ids:
        return {}
    return {w.id: w for w in db.scalars(select(Worker).where(Worker.id.in_(set(ids))))}


def _step(row: RunStep, depends_on: Sequence[str], workers: Mapping[str, Worker]) -> StepPublic:
    worker = workers.get(row.worker_id or "")
    return StepPublic(
        name=row.name,
        task=row.task_name,
        state=row.state,
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        queue=row.queue,
        worker=WorkerRef(id=worker.id, hostname=worker.hostname, pid=worker.pid)
        if worker
        else None,
        depends_on=list(depends_on),
        queued_at=row.queued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        next_attempt_at=row.next_attempt_at,
        outputs=row.outputs,
        error=row.error,
    )


def run_step(db: Session, run: Run, step: str) -> RunStep:
    """One step of the run, or 404 naming the steps it has."""
    row = db.scalar(select(RunStep).where(RunStep.run_id == run.id, RunStep.name == step))
    if row is None:
        names = db.scalars(select(RunStep.name).where(RunStep.run_id == run.id)).all()
        raise NotFound(
            f"Run {run.id!r} has no step {step!r}; its steps are {', '.join(sorted(names))}."
        )
    return row


def run_artifact(db: Session, run: Run, artifact_id: str) -> Artifact:
    artifact = db.get(Artifact, artifact_id) if looks_like_id(artifact_id) else None
    if artifact is None or artifact.run_id != run.id:
        raise NotFound(f"Run {run.id!r} has no artifact {artifact_id!r}.")
    return artifact
