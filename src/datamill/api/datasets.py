"""Datasets: upload, list, read, change, share, delete; rows, profiles, revisions and export."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from datamill.api.deps import (
    ContextDep,
    CurrentUser,
    DatasetForRead,
    DatasetForWrite,
    SessionDep,
    release,
)
from datamill.api.params import FilterParam, Limit, Offset, RowLimit, SearchParam, SortParam
from datamill.api.uploads import receive_upload
from datamill.context import AppContext
from datamill.datasets import catalog, revisions
from datamill.datasets.export import export
from datamill.datasets.ingest import IngestOptions
from datamill.datasets.view import parse_view
from datamill.db.models import Dataset, Revision
from datamill.events.messages import revision_message
from datamill.operations import history
from datamill.problems import Invalid, field_error
from datamill.schemas.common import ListReply
from datamill.schemas.datasets import (
    DatasetPublic,
    DatasetUpdate,
    ProfilePublic,
    RevisionPublic,
    RowsPage,
)

router = APIRouter(prefix="/datasets", tags=["datasets"])

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string", "maxLength": 200},
                        "delimiter": {"type": "string", "description": "CSV delimiter override"},
                        "header": {"type": "boolean", "description": "CSV header override"},
                        "encoding": {"type": "string", "description": "Text encoding override"},
                        "sheet": {"type": "string", "description": "Excel sheet to read"},
                    },
                }
            }
        },
    }
}


def _public(
    dataset: Dataset, head: Revision | None, warnings: list[str] | None = None
) -> DatasetPublic:
    return DatasetPublic(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        metadata=dataset.meta,
        owner=dataset.owner.username,
        sharing=catalog.sharing_of(dataset),
        head_revision=RevisionPublic.model_validate(head) if head else None,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
        warnings=warnings or [],
    )


def _options(fields: dict[str, str]) -> IngestOptions:
    header = fields.get("header")
    if header is not None and header.lower() not in {"true", "false", "1", "0"}:
        raise Invalid(
            "The header field must be true or false.",
            errors=[field_error(["body", "header"], "expected true or false")],
        )
    return IngestOptions(
        delimiter=fields.get("delimiter") or None,
        header=None if header is None else header.lower() in {"true", "1"},
        encoding=fields.get("encoding") or None,
        sheet=fields.get("sheet") or None,
    )


@router.post(
    "",
    status_code=201,
    operation_id="create_dataset",
    summary="Upload a dataset",
    openapi_extra=UPLOAD_BODY,
)
async def create(request: Request, user: CurrentUser, ctx: ContextDep) -> DatasetPublic:
    """Upload a CSV/TSV, Excel (.xlsx), JSON (records or lines) or Parquet file."""
    settings = ctx.settings
    upload = await receive_upload(request, settings.tmp_dir, settings.max_upload_bytes)
    try:
        options = _options(upload.fields)
        name = revisions.dataset_name(upload.fields.get("name"), upload.filename)

        def store() -> DatasetPublic:
            with ctx.sessions() as db:
                dataset, head, result = revisions.commit_new_dataset(
                    db, settings, ctx.duck, user, upload.path, upload.filename, name, options
                )
                ctx.bus.publish(revision_message(head))  # after the commit, as every event
                return _public(dataset, head, result.warnings)

        return await run_in_threadpool(store)
    finally:
        upload.discard()


@router.get("", operation_id="list_datasets", summary="List datasets")
def list_(
    user: CurrentUser,
    db: SessionDep,
    offset: Offset = 0,
    limit: Limit = 50,
    q: SearchParam = None,
) -> ListReply[DatasetPublic]:
    """The datasets you can read: yours, shared with you, shared with everyone (admins: all)."""
    items, total = catalog.list_datasets(db, user, offset, limit, q)
    heads = revisions.head_revisions(db, items)
    return ListReply(data=[_public(d, heads.get(d.id)) for d in items], count=total)


@router.get("/{dataset_id}", operation_id="get_dataset", summary="Get a dataset")
def get(dataset: DatasetForRead, db: SessionDep) -> DatasetPublic:
    return _public(dataset, revisions.head_revision(db, dataset))


@router.patch("/{dataset_id}", operation_id="update_dataset", summary="Change a dataset")
def update(body: DatasetUpdate, dataset: DatasetForWrite, db: SessionDep) -> DatasetPublic:
    """Change the name, description, metadata or sharing; fields not sent stay as they are."""
    catalog.update_dataset(db, dataset, body)
    db.commit()
    return _public(dataset, revisions.head_revision(db, dataset))


@router.delete(
    "/{dataset_id}", status_code=204, operation_id="delete_dataset", summary="Delete a dataset"
)
def delete(dataset: DatasetForWrite, db: SessionDep, ctx: ContextDep) -> None:
    """Delete the dataset, every revision and their files; 409 while an operation runs on it."""
    dataset_id = dataset.id
    history.lock_dataset(db, dataset_id)
    history.check_idle(db, dataset_id)
    files = revisions.revision_files(db, ctx.settings, dataset)
    catalog.delete_dataset(db, dataset)
    db.commit()
    for path in files:
        ctx.rows.forget(path)  # cached views of the data go with it
    catalog.remove_dataset_files(ctx.settings, dataset_id)


@router.get("/{dataset_id}/revisions", operation_id="list_revisions", summary="List revisions")
def list_revisions(
    dataset: DatasetForRead, db: SessionDep, offset: Offset = 0, limit: Limit = 50
) -> ListReply[RevisionPublic]:
    """Revisions, newest first."""
    items, total = revisions.list_revisions(db, dataset, offset, limit)
    return ListReply(data=[RevisionPublic.model_validate(r) for r in items], count=total)


@router.get(
    "/{dataset_id}/revisions/{revision_id}", operation_id="get_revision", summary="Get a revision"
)
def get_revision(revision_id: str, dataset: DatasetForRead, db: SessionDep) -> RevisionPublic:
    return RevisionPublic.model_validate(revisions.get_revision(db, dataset, revision_id))


def _rows(
    ctx: AppContext,
    revision: Revision,
    offset: int,
    limit: int,
    sort: str | None,
    filter_: str | None,
    q: str | None,
) -> Response:
    columns = revisions.revision_columns(revision)
    view = parse_view(sort, filter_, q, columns, engine=ctx.duck)
    path = revisions.revision_file(ctx.settings, revision)
    page = ctx.rows.read_rows(path, columns, view, offset, limit)
    body = {
        "columns": page.columns,
        "rows": page.rows,
        "total": page.total,
        "offset": page.offset,
        "positions": page.positions,
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/{dataset_id}/rows",
    response_model=RowsPage,
    operation_id="get_rows",
    summary="Rows of the head revision",
)
def rows(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    offset: Offset = 0,
    limit: RowLimit = 100,
    sort: SortParam = None,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> Response:
    """A page of the head revision's rows, under an optional sort, filter and search."""
    return _rows(ctx, revisions.head_revision(db, dataset), offset, limit, sort, filter, q)


@router.get(
    "/{dataset_id}/revisions/{revision_id}/rows",
    response_model=RowsPage,
    operation_id="get_revision_rows",
    summary="Rows of a revision",
)
def revision_rows(
    revision_id: str,
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    offset: Offset = 0,
    limit: RowLimit = 100,
    sort: SortParam = None,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> Response:
    """The same rows query on any revision."""
    revision = revisions.get_revision(db, dataset, revision_id)
    return _rows(ctx, revision, offset, limit, sort, filter, q)


def _profile(db: Session, ctx: AppContext, revision: Revision) -> dict[str, Any]:
    release(db)  # a first profile of a large table takes seconds: hold no connection meanwhile
    profile = revisions.ensure_profile(db, ctx.settings, ctx.duck, revision)
    db.commit()
    return profile


@router.get(
    "/{dataset_id}/profile",
    operation_id="get_profile",
    summary="Profile of the head revision",
    response_model=ProfilePublic,
    response_model_exclude_unset=True,
)
def profile(dataset: DatasetForRead, db: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Per-column statistics of the head revision (computed once per revision, then kept)."""
    return _profile(db, ctx, revisions.head_revision(db, dataset))


@router.get(
    "/{dataset_id}/revisions/{revision_id}/profile",
    operation_id="get_revision_profile",
    summary="Profile of a revision",
    response_model=ProfilePublic,
    response_model_exclude_unset=True,
)
def revision_profile(
    revision_id: str, dataset: DatasetForRead, db: SessionDep, ctx: ContextDep
) -> dict[str, Any]:
    return _profile(db, ctx, revisions.get_revision(db, dataset, revision_id))


@router.get(
    "/{dataset_id}/export",
    operation_id="export_dataset",
    summary="Export (download)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/octet-stream": {}}}},
)
def export_(
    dataset: DatasetForRead,
    db: SessionDep,
    ctx: ContextDep,
    format: Annotated[str, Query(description="csv, parquet, xlsx or json")] = "csv",
    revision: Annotated[str | None, Query(description="A revision id; default: head")] = None,
    sort: SortParam = None,
    filter: FilterParam = None,
    q: SearchParam = None,
) -> StreamingResponse:
    """Download the head (or a given) revision, optionally under a view, streamed."""
    rev = revisions.get_revision(db, dataset, revision) if revision else None
    rev = rev or revisions.head_revision(db, dataset)
    columns = revisions.revision_columns(rev)
    view = parse_view(sort, filter, q, columns, engine=ctx.duck)
    path = revisions.revision_file(ctx.settings, rev)
    result = export(ctx.duck, path, columns, view, format, tmp_dir=ctx.settings.tmp_dir)
    filename = f"{_safe_filename(dataset.name)}.{result.extension}"
    return StreamingResponse(
        result.chunks,
        media_type=result.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        background=BackgroundTask(result.cleanup),  # runs after a client disconnect too
    )


def _safe_filename(name: str) -> str:
    cleaned = "".join(
        ch if (ch.isascii() and ch.isalnum()) or ch in "-_ ." else "_" for ch in name
    ).strip(" .")
    return cleaned[:100] or "dataset"
