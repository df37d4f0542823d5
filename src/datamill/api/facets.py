"""Reads for cleaning in the grid: facets (value counts, histograms), chart points, ready views
of rows with nulls, duplicates or outliers, clusters of similar values, and what changed between
revisions.

All of them read the head revision under the grid's view (`filter`, `q`) with DuckDB in this
process, holding no database connection meanwhile; anyone who may read the dataset may ask.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated

import duckdb
from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from datamill.api.deps import ContextDep, DatasetForRead, SessionDep, release
from datamill.api.params import FilterParam, Offset, RowLimit, SearchParam
from datamill.context import AppContext
from datamill.datasets import charts, revisions
from datamill.datasets.compare import MAX_SAMPLE, Side, compare_revisions
from datamill.datasets.types import Column
from datamill.datasets.view import View, parse_view
from datamill.db.models import Dataset
from datamill.operations import facets
from datamill.operations.clusters import ClusterOptions, find_clusters, public
from datamill.operations.clusters import Method as ClusterMethod
from datamill.operations.outliers import Method as OutlierMethod
from datamill.schemas.operations import (
    ChartPoints,
    ClusterPublic,
    Clusters,
    Comparison,
    NumericFacet,
    ReadyPage,
    ValueCounts,
)

router = APIRouter(tags=["facets"])

ColumnName = Annotated[str, Query(min_length=1, max_length=256, description="A column's name.")]


@router.get("/datasets/{dataset_id}/clusters", operation_id="find_clusters", summary="Clusters")
def clusters(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    column: Annotated[str, Query(min_length=1, max_length=256, description="A text column.")],
    method: Annotated[ClusterMethod, Query()] = "fingerprint",
    ngram_size: Annotated[int, Query(ge=1, le=10)] = 2,
    radius: Annotated[float, Query(ge=0, le=100, description="levenshtein: edits at most.")] = 1,
    block_size: Annotated[int, Query(ge=2, le=20, description="levenshtein: block size.")] = 6,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> Clusters:
    """Groups of similar values of a text column (under the grid's view), with their counts:
    key collision by OpenRefine's fingerprint or n-gram fingerprint keys, or nearest neighbours
    by Levenshtein distance. Merge the ones you choose with the `merge-clusters` operation."""
    options = ClusterOptions(method, ngram_size, radius, block_size)
    with _reading(db, ctx, dataset, filter, q) as (cursor, path, columns, view):
        found, distinct = find_clusters(cursor, path, columns, column, options, view)
    return Clusters(
        column=column,
        method=method,
        distinct=distinct,
        clusters=[ClusterPublic.model_validate(public(c)) for c in found],
    )


@router.get(
    "/datasets/{dataset_id}/facets/values", operation_id="facet_values", summary="Value counts"
)
def facet_values(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    column: ColumnName,
    limit: Annotated[int, Query(ge=1, le=facets.MAX_VALUES)] = 50,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> ValueCounts:
    """The most common values of a column among the rows of the view (`filter`, `q`)."""
    with _reading(db, ctx, dataset, filter, q) as (cursor, path, columns, view):
        found = facets.value_counts(cursor, path, columns, column, view, limit)
    return ValueCounts.model_validate(found)


@router.get(
    "/datasets/{dataset_id}/facets/histogram", operation_id="facet_histogram", summary="Histogram"
)
def facet_histogram(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    column: ColumnName,
    bins: Annotated[int, Query(ge=1, le=facets.MAX_BINS)] = 20,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> NumericFacet:
    """Equal bins over a number column's finite values among the rows of the view."""
    with _reading(db, ctx, dataset, filter, q) as (cursor, path, columns, view):
        found = facets.histogram(cursor, path, columns, column, view, bins)
    return NumericFacet.model_validate(found)


@router.get("/datasets/{dataset_id}/chart", operation_id="chart_points", summary="Chart points")
def chart(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    x: Annotated[str, Query(min_length=1, max_length=256, description="A number, date or time.")],
    y: Annotated[str, Query(min_length=1, max_length=256, description="A number column.")],
    kind: Annotated[charts.ChartKind, Query()] = "scatter",
    points: Annotated[int, Query(ge=2, le=charts.MAX_POINTS)] = 2000,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> ChartPoints:
    """`y` against `x` among the rows of the view: every point when there are at most `points`,
    else a seeded random sample of them (scatter) or the mean of `y` over `points` equal steps of
    `x` (line). Histograms and bars of counts are the facets'."""
    with _reading(db, ctx, dataset, filter, q) as (cursor, path, columns, view):
        found = charts.xy_points(cursor, path, columns, x, y, view, kind, points)
    return ChartPoints.model_validate(found)


@router.get("/datasets/{dataset_id}/views/{kind}", operation_id="ready_view", summary="Ready view")
def ready(
    kind: facets.ReadyView,
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    columns: Annotated[
        list[str] | None, Query(max_length=1000, description="nulls, duplicates: these columns.")
    ] = None,
    column: Annotated[str | None, Query(max_length=256, description="outliers: a column.")] = None,
    method: Annotated[OutlierMethod, Query(description="outliers: how they are found.")] = "iqr",
    k: Annotated[float | None, Query(gt=0, le=1000)] = None,
    offset: Offset = 0,
    limit: RowLimit = 100,
) -> ReadyPage:
    """Rows with a null, rows with a duplicate (grouped), or a column's outliers: a page, each
    row with its position (what `delete-rows` and `edit-cell` take)."""
    options = facets.ReadyOptions(tuple(columns or ()), column, method, k)
    with _reading(db, ctx, dataset, None, None) as (cursor, path, table, _):
        found = facets.ready_view(cursor, path, table, kind, options, offset, limit)
    return ReadyPage.model_validate(found)


@router.get("/datasets/{dataset_id}/compare", operation_id="compare_revisions", summary="Compare")
def compare(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    from_: Annotated[str, Query(alias="from", max_length=36, description="A revision id.")],
    to: Annotated[
        str | None, Query(max_length=36, description="A revision id (default: the head).")
    ] = None,
    key: Annotated[
        list[str] | None, Query(max_length=20, description="Columns that identify a row.")
    ] = None,
    sample: Annotated[int, Query(ge=0, le=MAX_SAMPLE)] = 20,
) -> Comparison:
    """Columns added, removed and retyped, and rows added, removed and changed (with a sample)
    from one revision to another. Rows are matched by `key` if given, else by position when
    both have as many rows, else by content."""
    old = revisions.get_revision(db, dataset, from_)
    new = revisions.get_revision(db, dataset, to) if to else revisions.head_revision(db, dataset)
    release(db)
    sides = [
        Side(revisions.revision_file(ctx.settings, r), revisions.revision_columns(r), r.row_count)
        for r in (old, new)
    ]
    with closing(ctx.duck.cursor()) as cursor:
        found = compare_revisions(cursor, sides[0], sides[1], list(key or []), sample)
    return Comparison.model_validate(found)


@contextmanager
def _reading(
    db: Session, ctx: AppContext, dataset: Dataset, filter: str | None, q: str | None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path, list[Column], View]]:
    """A DuckDB cursor over the head revision, its columns and the view; no database
    connection held meanwhile."""
    head = revisions.head_revision(db, dataset)
    release(db)
    columns = revisions.revision_columns(head)
    view = parse_view(None, filter, q, columns, engine=ctx.duck)
    with closing(ctx.duck.cursor()) as cursor:
        yield cursor, revisions.revision_file(ctx.settings, head), columns, view
