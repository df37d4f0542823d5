"""Runs as the API shows them: a submission, its 202 reply, runs in a list, one run in detail."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from datamill.schemas.common import Input, Text, UTCTime


class RunCreate(Input):
    """A JSON submission (a multipart one carries the same ``params`` and ``inputs`` as fields)."""

    params: dict[str, Any] | None = Field(
        default=None, description="The pipeline's parameters; those left out take their default."
    )
    inputs: dict[str, Any] | None = Field(
        default=None,
        description='Value inputs as JSON values; table inputs as `{"dataset": "<id>"}`.',
    )
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The version to run (default: the latest)."
    )


class RunAccepted(BaseModel):
    run_id: str
    state: str
    url: str = Field(description="Where to follow the run: `/api/v1/runs/<id>`.")


class RunPublic(BaseModel):
    """A run in a list: what ran, for whom, and how it stands (no steps)."""

    id: str
    pipeline: str | None = Field(description="The pipeline's name; none for dataset operations.")
    version: int | None
    dataset: str | None = Field(
        description="For a run of cleaning operations: the dataset they change."
    )
    owner: str = Field(description="The owner's username.")
    state: str = Field(description="queued, running, succeeded, failed or cancelled.")
    params: dict[str, Any]
    inputs: dict[str, Any] = Field(
        description="Input values; files and tables as paths relative to the data directory."
    )
    error: str | None
    created_at: UTCTime
    started_at: UTCTime | None
    finished_at: UTCTime | None


class WorkerRef(BaseModel):
    id: str
    hostname: str
    pid: int


class StepPublic(BaseModel):
    name: str
    task: str = Field(description="The task's name (its spec is pinned to the run).")
    state: str
    attempt: int = Field(description="The latest attempt dispatched; 0 before the first.")
    max_attempts: int = Field(description="The highest attempt number this round may reach.")
    queue: str
    worker: WorkerRef | None
    depends_on: list[str]
    queued_at: UTCTime | None
    started_at: UTCTime | None
    finished_at: UTCTime | None
    next_attempt_at: UTCTime | None = Field(description="When a retry after a failure is due.")
    outputs: dict[str, Any]
    error: str | None


class ArtifactPublic(BaseModel):
    id: str
    step: str
    name: str
    kind: str = Field(description="file or table (a table is a Parquet file).")
    size_bytes: int


class RunDetail(RunPublic):
    outputs: dict[str, Any] = Field(
        description="The pipeline's outputs that have a value yet (from succeeded steps)."
    )
    steps: list[StepPublic]
    artifacts: list[ArtifactPublic]


class ArtifactDataset(Input):
    name: Text | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The new dataset's name (default: the artifact's name).",
    )
