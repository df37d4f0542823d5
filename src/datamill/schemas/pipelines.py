"""Pipelines, their versions, checks and interfaces as the API shows them. A pipeline is written in
the request body as YAML or JSON (see ``docs/pipelines.md``); its own parser judges it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from datamill.schemas.common import UTCTime


class PipelinePublic(BaseModel):
    """A pipeline in a list: its latest version's number and description, not its spec."""

    id: str
    name: str
    description: str = Field(description="The latest version's description.")
    owner: str = Field(description="The owner's username.")
    latest_version: int
    created_at: UTCTime
    updated_at: UTCTime = Field(description="When the latest version was saved.")


class PipelineDetail(PipelinePublic):
    spec: dict[str, Any] = Field(description="The latest version as JSON.")
    source: str = Field(description="The latest version exactly as it was submitted.")


class PipelineVersionPublic(BaseModel):
    pipeline: str = Field(description="The pipeline's name.")
    version: int
    description: str
    created_by: str | None = Field(description="Username of whoever saved it.")
    created_at: UTCTime


class PipelineVersionDetail(PipelineVersionPublic):
    spec: dict[str, Any]
    source: str


class SpecProblem(BaseModel):
    loc: list[str | int] = Field(description="Path of the field in the spec document.")
    msg: str


class CheckReply(BaseModel):
    ok: bool = Field(description="True when the pipeline could be saved and run as it is.")
    errors: list[SpecProblem] = Field(description="Every problem found, each at its path.")


class InterfaceInput(BaseModel):
    kind: Literal["file", "table", "value"]
    description: str
    validators: list[dict[str, Any]] = Field(description="Checked before a run is queued.")


class PipelineInterface(BaseModel):
    """What a caller sends to run the pipeline's latest version."""

    pipeline: str
    version: int
    inputs: dict[str, InterfaceInput]
    params: dict[str, Any] = Field(
        description="A JSON Schema of the parameters: those without a default are required."
    )
