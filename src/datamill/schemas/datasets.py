from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

from datamill.datasets.types import ColumnType
from datamill.schemas.common import Input, Public, Text, UTCTime


class ColumnPublic(BaseModel):
    name: str
    type: ColumnType


MAX_METADATA_BYTES = 64 * 1024


class Sharing(Input):
    everyone: bool = Field(default=False, description="Readable by every signed-in user.")
    users: list[Text] = Field(
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


class DatasetUpdate(Input):
    """Only the fields sent are changed; a field sent as null is an error (omit it instead)."""

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=10_000)
    metadata: dict[str, Any] | None = Field(
        default=None, description="Free-form JSON object (at most 64 KB), replaced as a whole."
    )
    sharing: Sharing | None = None

    @field_validator("name", "description", "metadata", "sharing", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a name needs at least one visible character")
        return value.strip()

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError("metadata is larger than 64 KB")
        return value


class RowsPage(BaseModel):
    columns: list[ColumnPublic]
    rows: list[list[Any]]
    total: int
    offset: int
    positions: list[int] | None = Field(
        description="Each row's position in the revision, from 0: what `edit-cell` and "
        "`delete-rows` take. Null when a column named `file_row_number` hides them."
    )


class Histogram(BaseModel):
    edges: list[float | str] = Field(description="21 bin edges (ISO strings for dates and times).")
    counts: list[int] = Field(description="20 counts.")


class TopValue(BaseModel):
    value: str
    count: int


class ColumnProfile(BaseModel):
    """Statistics of one column; which fields appear depends on its type."""

    name: str
    type: ColumnType
    count: int = Field(description="Non-null values.")
    nulls: int
    distinct: int
    distinct_exact: bool = Field(description="False when `distinct` is a HyperLogLog estimate.")
    min: int | float | str | None = None
    max: int | float | str | None = None
    mean: float | None = None
    std: float | None = None
    non_finite: int | None = Field(default=None, description="NaN and infinite floats.")
    histogram: Histogram | None = None
    top: list[TopValue] | None = Field(default=None, description="The 10 most frequent texts.")
    min_length: int | None = None
    max_length: int | None = None
    true: int | None = None
    false: int | None = None


class ProfilePublic(BaseModel):
    row_count: int
    columns: list[ColumnProfile]
