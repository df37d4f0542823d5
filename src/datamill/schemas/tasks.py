"""Tasks as the API shows them. A task is written in the request body as YAML or JSON (see
``docs/pipelines.md``), so there is no ``TaskCreate`` model: the spec's own parser judges it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from datamill.schemas.common import UTCTime


class TaskPublic(BaseModel):
    """A task in a list: its spec, without the text it was written in."""

    id: str
    name: str
    kind: Literal["command", "python", "operation"]
    description: str
    queue: str = Field(description="The queue whose workers may run it.")
    spec: dict[str, Any] = Field(description="The task as JSON, every default filled in.")
    created_by: str | None = Field(description="Username of the admin who registered it.")
    created_at: UTCTime
    updated_at: UTCTime


class TaskDetail(TaskPublic):
    source: str = Field(description="The spec exactly as it was submitted (YAML or JSON).")
    warnings: list[str] = Field(
        default_factory=list,
        description="After a replacement: the pipelines whose latest version no longer checks.",
    )
