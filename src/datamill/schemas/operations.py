"""Operations as the API shows them, a request to apply one, and a dataset's history."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from datamill.schemas.common import Input, UTCTime
from datamill.schemas.datasets import ColumnPublic


class OperationPublic(BaseModel):
    name: str
    family: str = Field(description="columns, rows, missing, text, numbers, outliers...")
    description: str
    params: dict[str, Any] = Field(
        description="JSON Schema of the parameters; a column name carries `x-column`."
    )
    example: dict[str, Any] = Field(description="Parameters that would work on a typical table.")


class OperationApply(Input):
    op: str = Field(min_length=1, max_length=64, description="The operation's name.")
    params: dict[str, Any] = Field(default_factory=dict)
    base_revision: str | None = Field(
        default=None,
        max_length=36,
        description="The revision the caller saw as the head: 409 if it no longer is.",
    )


class StepEdit(Input):
    params: dict[str, Any] = Field(description="The step's operation, with these parameters.")


class HistoryStep(BaseModel):
    position: int = Field(description="0 is the upload; then each operation in order.")
    operation: str | None = Field(description="None for the upload.")
    params: dict[str, Any]
    revision_id: str
    revision_number: int | None
    stale: bool = Field(description="An earlier step was edited after this one ran.")
    changes: dict[str, Any] = Field(
        description="rows_before, rows_after, columns_added, columns_removed, columns_retyped, "
        "and what the operation counted."
    )
    author: str | None
    run_id: str | None
    created_at: UTCTime
    updated_at: UTCTime


class History(BaseModel):
    dataset_id: str
    head: int = Field(description="The position of the head revision.")
    head_revision_id: str
    can_undo: bool
    can_redo: bool
    running: str | None = Field(description="The run of an operation not finished yet.")
    steps: list[HistoryStep]


class Purged(BaseModel):
    removed: int = Field(description="Revisions deleted (with their files).")


class ClusterValue(BaseModel):
    value: str
    count: int = Field(description="Rows with this value.")


class ClusterPublic(BaseModel):
    values: list[ClusterValue] = Field(description="Most common first.")
    rows: int
    suggestion: str = Field(description="The most common value: the one to keep by default.")


class Clusters(BaseModel):
    column: str
    method: str
    distinct: int = Field(description="Distinct values looked at.")
    clusters: list[ClusterPublic] = Field(description="Biggest first.")


class FacetValue(BaseModel):
    value: Any = Field(description="Encoded as in rows: usable as an `eq` filter's value.")
    count: int


class ValueCounts(BaseModel):
    column: str
    rows: int = Field(description="Rows in the view.")
    nulls: int
    distinct: int
    values: list[FacetValue] = Field(description="Most common first (ties by value).")


class HistogramBin(BaseModel):
    low: float
    high: float
    count: int


class NumericFacet(BaseModel):
    column: str
    min: float | None
    max: float | None
    nulls: int
    non_finite: int = Field(description="NaN and infinities (left out of the bins).")
    bins: list[HistogramBin]


class ChartPoints(BaseModel):
    kind: str
    x: ColumnPublic
    y: ColumnPublic
    total: int = Field(description="Rows of the view where both x and y have a value.")
    reduced: bool = Field(description="True when sampled (scatter) or averaged (line).")
    points: list[list[Any]] = Field(description="[x, y] pairs in x order, encoded as in rows.")


class ReadyPage(BaseModel):
    columns: list[ColumnPublic]
    rows: list[list[Any]]
    positions: list[int] = Field(description="Each row's position in the revision, from 0.")
    total: int
    offset: int


class ColumnChanges(BaseModel):
    added: list[str]
    removed: list[str]
    retyped: list[dict[str, str]] = Field(description="{column, from, to}")


class RowSamples(BaseModel):
    changed: list[dict[str, Any]] = Field(
        description="{at: the position, or the key as text, cells: {column: {before, after}}}"
    )
    added: list[list[Any]] = Field(description="Values of the columns both revisions have.")
    removed: list[list[Any]]


class Comparison(BaseModel):
    match: str = Field(description="How rows were matched: key, position or content.")
    rows_before: int
    rows_after: int
    columns: ColumnChanges
    common_columns: list[str]
    added: int
    removed: int
    changed: int
    cells_changed: dict[str, int] = Field(description="By column (when matched by position).")
    sample: RowSamples


class RecipeStep(Input):
    op: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class RecipePublish(Input):
    name: str = Field(
        min_length=1, max_length=64, description="The pipeline's name (a new one, or yours)."
    )
    description: str | None = Field(default=None, max_length=10_000)


class Recipe(Input):
    """A dataset's operations as JSON: what `GET .../recipe` exports and `POST .../recipe`
    replays on another dataset."""

    datamill_recipe: int = Field(default=1, ge=1, le=1, description="The format's version.")
    dataset: str | None = Field(default=None, max_length=200, description="Where it came from.")
    steps: list[RecipeStep] = Field(max_length=500)
