"""A run's artifacts: downloading one, and keeping a table artifact as a dataset of one's own.

Artifact rows are written by the worker when a step succeeds; their ``path`` is relative to the
data directory and is resolved inside it, never trusted.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.datasets import catalog, revisions
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions
from datamill.db.models import Run, User
from datamill.problems import Invalid, NotFound, field_error
from datamill.runs.inputs import file_suffix
from datamill.runs.queries import run_artifact
from datamill.schemas.datasets import DatasetPublic, RevisionPublic
from datamill.storage.files import UnsafePathError, resolve_inside


def artifact_file(db: Session, settings: Settings, run: Run, artifact_id: str) -> tuple[Path, str]:
    """The artifact's file and the name to download it as (``<step>-<name><ext>``)."""
    artifact = run_artifact(db, run, artifact_id)
    try:
        path = resolve_inside(settings.data_dir, artifact.path)
    except UnsafePathError:
        path = None
    if path is None or not path.is_file():
        raise NotFound(f"The file of artifact {artifact_id!r} is gone.")
    suffix = ".parquet" if artifact.kind == "table" else file_suffix(artifact.path)
    return path, f"{artifact.step_name}-{artifact.name}{suffix}"


def artifact_dataset(
    db: Session,
    settings: Settings,
    engine: Engine,
    user: User,
    run: Run,
    artifact_id: str,
    name: str | None,
) -> DatasetPublic:
    """A new dataset owned by ``user`` whose first revision is the table artifact (committed)."""
    artifact = run_artifact(db, run, artifact_id)
    if artifact.kind != "table":
        raise Invalid(
            f"The artifact {artifact.name!r} is a {artifact.kind}, not a table; only a table "
            "output can become a dataset.",
            errors=[field_error(["path", "artifact_id"], f"a {artifact.kind} artifact")],
        )
    path, filename = artifact_file(db, settings, run, artifact_id)
    dataset_name = revisions.dataset_name(name or artifact.name, filename)
    dataset, head, result = revisions.commit_new_dataset(
        db, settings, engine, user, path, filename, dataset_name, IngestOptions()
    )
    return DatasetPublic(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description or "",
        metadata=dataset.meta,
        owner=user.username,
        sharing=catalog.sharing_of(dataset),
        head_revision=RevisionPublic.model_validate(head),
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
        warnings=result.warnings,
    )
