"""The files a step left behind, recorded as ``artifacts`` rows when its success is.

One row per ``file`` and ``table`` output of the step's latest success: a step that succeeds
again (a retried run) replaces the rows of its earlier success, so a run's artifacts are always
the files its steps' outputs name. Value outputs are not artifacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from datamill.db.models import Artifact
from datamill.pipelines.tasks import TaskSpec
from datamill.storage.files import resolve_inside

ARTIFACT_KINDS = ("file", "table")


@dataclass(frozen=True)
class Produced:
    """One file an attempt produced: an output's name and kind, its path relative to the data
    directory, its size."""

    name: str
    kind: str
    path: str
    size_bytes: int


def produced_files(task: TaskSpec, outputs: Mapping[str, Any], data_dir: Path) -> list[Produced]:
    """The file and table outputs among ``outputs`` (stored paths), with their sizes."""
    return [
        Produced(name, port.kind, path, resolve_inside(data_dir, path).stat().st_size)
        for name, port in task.outputs.items()
        if port.kind in ARTIFACT_KINDS
        for path in (outputs[name],)
    ]


def record_artifacts(db: Session, run_id: str, step: str, produced: Iterable[Produced]) -> None:
    """Replace the artifacts of ``step`` with ``produced``; flushes, the caller commits."""
    db.execute(delete(Artifact).where(Artifact.run_id == run_id, Artifact.step_name == step))
    db.add_all(
        Artifact(
            run_id=run_id,
            step_name=step,
            name=item.name,
            kind=item.kind,
            path=item.path,
            size_bytes=item.size_bytes,
        )
        for item in produced
    )
    db.flush()
