"""Revisions: creating a dataset from an upload, finding revisions, and their kept profiles."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datamill.caching import SingleFlight
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, IngestResult, ingest
from datamill.datasets.profile import compute_profile
from datamill.datasets.types import Column
from datamill.db.models import Dataset, Revision, User, looks_like_id, new_id
from datamill.problems import Invalid, NotFound, field_error
from datamill.storage.files import atomic_target, remove_quietly, resolve_inside, revision_relpath

MAX_NAME = 200


def dataset_name(requested: str | None, filename: str) -> str:
    """The requested name, else the uploaded file's name without its extension."""
    if requested and not requested.isprintable():
        raise Invalid(
            "A dataset name cannot contain control characters.",
            errors=[field_error(["body", "name"], "control characters")],
        )
    from_file = "".join(ch for ch in Path(filename).stem if ch.isprintable()).strip()
    name = (requested or "").strip() or from_file or "Untitled dataset"
    if len(name) > MAX_NAME:
        raise Invalid(
            f"A dataset name is at most {MAX_NAME} characters.",
            errors=[field_error(["body", "name"], f"at most {MAX_NAME} characters")],
        )
    return name


def commit_new_dataset(
    db: Session,
    settings: Settings,
    engine: Engine,
    owner: User,
    raw: Path,
    filename: str,
    name: str,
    options: IngestOptions,
) -> tuple[Dataset, Revision, IngestResult]:
    """Ingest ``raw`` into a new dataset with its first revision, and commit.

    This commits (unlike repository functions) because the file and the rows must land together:
    the file is published first, and removed again if the rows cannot be committed.
    """
    dataset = Dataset(id=new_id(), owner_id=owner.id, name=name, meta={})
    revision_id = new_id()
    relpath = revision_relpath(dataset.id, revision_id)
    final = resolve_inside(settings.revisions_dir, relpath)
    try:
        with atomic_target(final) as out:
            result = ingest(engine, raw, filename, out, options, tmp_dir=settings.tmp_dir)
    except BaseException:
        _remove_empty_dir(final.parent)
        raise
    try:
        revision = Revision(
            id=revision_id,
            dataset_id=dataset.id,
            number=1,
            path=relpath,
            row_count=result.row_count,
            size_bytes=final.stat().st_size,
            columns=[dict(c) for c in result.columns],
            source={"filename": filename, "format": result.format, **result.details},
            created_by=owner.id,
        )
        dataset.head_revision_id = revision_id
        db.add_all([dataset, revision])
        db.commit()
    except BaseException:
        db.rollback()
        remove_quietly(final)
        _remove_empty_dir(final.parent)
        raise
    return dataset, revision, result


def _remove_empty_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def head_revision(db: Session, dataset: Dataset) -> Revision:
    revision = db.get(Revision, dataset.head_revision_id) if dataset.head_revision_id else None
    if revision is None:
        raise NotFound(f"Dataset {dataset.id!r} has no revision yet.")
    return revision


def get_revision(db: Session, dataset: Dataset, revision_id: str) -> Revision:
    revision = db.get(Revision, revision_id) if looks_like_id(revision_id) else None
    if revision is None or revision.dataset_id != dataset.id:
        raise NotFound(f"Dataset {dataset.id!r} has no revision {revision_id!r}.")
    return revision


def list_revisions(
    db: Session, dataset: Dataset, offset: int, limit: int
) -> tuple[Sequence[Revision], int]:
    where = Revision.dataset_id == dataset.id
    total = db.scalar(select(func.count()).select_from(Revision).where(where)) or 0
    query = select(Revision).where(where).order_by(Revision.number.desc())
    return db.scalars(query.offset(offset).limit(limit)).all(), total


def revision_file(settings: Settings, revision: Revision) -> Path:
    return resolve_inside(settings.revisions_dir, revision.path)


def revision_files(db: Session, settings: Settings, dataset: Dataset) -> list[Path]:
    paths = db.scalars(select(Revision.path).where(Revision.dataset_id == dataset.id))
    return [resolve_inside(settings.revisions_dir, path) for path in paths]


def revision_columns(revision: Revision) -> list[Column]:
    return [Column(name=c["name"], type=c["type"]) for c in revision.columns]


_PROFILING: SingleFlight[str, dict[str, Any]] = SingleFlight()


def ensure_profile(
    db: Session, settings: Settings, engine: Engine, revision: Revision
) -> dict[str, Any]:
    """The revision's profile: computed on first request, then kept (revisions never change).

    A large table's first profile takes seconds; everyone opening it meanwhile (a workspace
    asks at once) waits for that one computation in this process instead of starting their own.
    """
    if revision.profile is None:
        path = revision_file(settings, revision)
        columns = revision_columns(revision)
        revision.profile = _PROFILING.run(
            revision.id, lambda: compute_profile(engine, path, columns)
        )
        db.flush()
    return revision.profile


def head_revisions(db: Session, datasets: Sequence[Dataset]) -> dict[str, Revision]:
    """The head revision of each dataset, by dataset id, in one query."""
    ids = [d.head_revision_id for d in datasets if d.head_revision_id]
    if not ids:
        return {}
    return {r.dataset_id: r for r in db.scalars(select(Revision).where(Revision.id.in_(ids)))}
