from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from datamill.datasets.types import ColumnType
from datamill.schemas.common import Public, UTCTime


class ColumnPublic(BaseModel):
    name: str
    type: ColumnType


class Sharing(BaseModel):
    everyone: bool = Field(default=False, description="Readable by every signed-in user.")
    users: list[str] = Field(
        default_factory=list, max_length=1000, description="Usernames who may read it."
    )


class RevisionPublic(Public):
    id: str
    number: int
    parent_id: str | None
    row_count: int
    size_bytes: int
    columns: list[ColumnPublic]
    source: dict[str, Any]
    created_by: str | None
    created_at: UTCTime


class DatasetPublic(BaseModel):
    id: str
    name: str
    description: str
    metadata: dict[str, Any]
    owner: str = Field(description="The owner's username.")
    sharing: Sharing
    head_revision: RevisionPublic | None
    created_at: UTCTime
    updated_at: UTCTime
    warnings: list[str] = Field(
        default_factory=list,
        description="What ingest changed or noticed (renamed columns, retyped columns...).",
    )


class DatasetUpdate(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    metadata: dict[str, Any] | None = None
    sharing: Sharing | None = None


class RowsPage(BaseModel):
    columns: list[ColumnPublic]
    rows: list[list[Any]]
    total: int
    offset: int
