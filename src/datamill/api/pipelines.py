"""Pipelines: saved (each save a new version), listed, read, checked, and their interface.

Pipelines are published web services: every signed-in user may read any of them and save a new
one; only its owner or an admin adds a version to an existing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from datamill.api.deps import CurrentUser, SessionDep
from datamill.api.params import Limit, Offset
from datamill.api.specs import PipelineName, SpecText, committed, spec_body
from datamill.db.models import Pipeline, PipelineVersion
from datamill.pipelines import store
from datamill.pipelines.pipeline import PipelineSpec
from datamill.problems import Forbidden
from datamill.schemas.common import ListReply
from datamill.schemas.pipelines import (
    CheckReply,
    PipelineDetail,
    PipelineInterface,
    PipelinePublic,
    PipelineVersionDetail,
    PipelineVersionPublic,
    SpecProblem,
)

router = APIRouter(prefix="/pipelines", tags=["pipelines"])

PIPELINE_BODY = spec_body("A pipeline spec (docs/pipelines.md)")
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="A version number.")]


@dataclass(frozen=True)
class Submission:
    """A parsed pipeline spec its sender may save under its name."""

    spec: PipelineSpec
    text: str


def pipeline_submission(user: CurrentUser, text: SpecText, db: SessionDep) -> Submission:
    spec = store.read_pipeline(text)
    existing = store.find_pipeline(db, spec.name)
    if existing is not None and not store.can_change(user, existing):
        raise Forbidden(
            f"The pipeline {spec.name!r} belongs to {existing.owner.username}; only its owner "
            "or an admin can add a version. Save yours under another name."
        )
    return Submission(spec, text)


def pipeline_for_read(name: PipelineName, _user: CurrentUser, db: SessionDep) -> Pipeline:
    return store.get_pipeline(db, name)


PipelineSubmission = Annotated[Submission, Depends(pipeline_submission)]
PipelineForRead = Annotated[Pipeline, Depends(pipeline_for_read)]


def _public(pipeline: Pipeline, latest: PipelineVersion) -> PipelinePublic:
    return PipelinePublic(
        id=pipeline.id,
        name=pipeline.name,
        description=latest.spec.get("description", ""),
        owner=pipeline.owner.username,
        latest_version=pipeline.latest_version,
        created_at=pipeline.created_at,
        updated_at=pipeline.updated_at,
    )


def pipeline_detail(pipeline: Pipeline, latest: PipelineVersion) -> PipelineDetail:
    return PipelineDetail(
        **_public(pipeline, latest).model_dump(), spec=latest.spec, source=latest.source
    )


def _version(pipeline: Pipeline, version: PipelineVersion) -> PipelineVersionPublic:
    return PipelineVersionPublic(
        pipeline=pipeline.name,
        version=version.version,
        description=version.spec.get("description", ""),
        created_by=version.creator.username if version.creator else None,
        created_at=version.created_at,
    )


@router.post(
    "",
    status_code=201,
    operation_id="save_pipeline",
    summary="Save a pipeline (a new version)",
    openapi_extra=PIPELINE_BODY,
)
def save(user: CurrentUser, submission: PipelineSubmission, db: SessionDep) -> PipelineDetail:
    """Save a pipeline written as YAML or JSON: version 1 of a new name, or the next version of
    yours. A spec that does not check against the registered tasks is refused (422) with every
    problem, each at `["body", ...path]`."""
    with committed(db, "The pipeline was saved by someone else at the same moment; try again."):
        version = store.save_pipeline(db, submission.spec, submission.text, user)
    return pipeline_detail(version.pipeline, version)


@router.post(
    "/check",
    operation_id="check_pipeline",
    summary="Check a pipeline without saving it",
    openapi_extra=PIPELINE_BODY,
)
def check(_user: CurrentUser, text: SpecText, db: SessionDep) -> CheckReply:
    """Every problem of a pipeline spec, each at its path in the document (200 either way)."""
    errors = store.check_text(db, text)
    return CheckReply(ok=not errors, errors=[SpecProblem.model_validate(e) for e in errors])


@router.get("", operation_id="list_pipelines", summary="List pipelines")
def list_(
    _user: CurrentUser, db: SessionDep, offset: Offset = 0, limit: Limit = 50
) -> ListReply[PipelinePublic]:
    """Every pipeline, by name (pipelines are readable by every signed-in user)."""
    items, total = store.list_pipelines(db, offset, limit)
    return ListReply(data=[_public(p, latest) for p, latest in items], count=total)


@router.get("/{name}", operation_id="get_pipeline", summary="Get a pipeline")
def get(pipeline: PipelineForRead, db: SessionDep) -> PipelineDetail:
    """The pipeline with its latest version's spec."""
    return pipeline_detail(pipeline, store.latest_version(db, pipeline))


@router.get(
    "/{name}/versions", operation_id="list_pipeline_versions", summary="List a pipeline's versions"
)
def list_versions(
    pipeline: PipelineForRead, db: SessionDep, offset: Offset = 0, limit: Limit = 50
) -> ListReply[PipelineVersionPublic]:
    """Versions, newest first."""
    items, total = store.list_versions(db, pipeline, offset, limit)
    return ListReply(data=[_version(pipeline, v) for v in items], count=total)


@router.get(
    "/{name}/versions/{version}",
    operation_id="get_pipeline_version",
    summary="Get a version of a pipeline",
)
def get_version(
    pipeline: PipelineForRead, version: VersionNumber, db: SessionDep
) -> PipelineVersionDetail:
    found = store.get_version(db, pipeline, version)
    return PipelineVersionDetail(
        **_version(pipeline, found).model_dump(), spec=found.spec, source=found.source
    )


@router.get(
    "/{name}/interface",
    operation_id="get_pipeline_interface",
    summary="Get a pipeline's interface",
)
def get_interface(pipeline: PipelineForRead, db: SessionDep) -> PipelineInterface:
    """The inputs and parameters (as a JSON Schema, with defaults) that a run of the latest
    version needs."""
    latest = store.latest_version(db, pipeline)
    return PipelineInterface.model_validate(
        {
            "pipeline": pipeline.name,
            "version": latest.version,
            **store.pipeline_interface(latest),
        }
    )
