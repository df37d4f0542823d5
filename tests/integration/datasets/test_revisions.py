"""A revision's file and row land together, or neither does; what a crash leaves between the two
(revision files, run inputs, staging and validator directories) is swept after an hour."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions
from datamill.datasets.revisions import commit_new_dataset
from datamill.datasets.sweep import sweep_orphans
from datamill.db.models import Revision
from datamill.runs.inputs import PendingInputs, run_inputs_dir
from tests.integration.events.event_runs import make_run


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    duck = Engine("256MB", tmp_path / "spill")
    yield duck
    duck.close()


def test_a_failed_commit_removes_the_published_file(
    db: Session, settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = create_user(db, "owner", "password-123")
    db.commit()
    raw = tmp_path / "a.csv"
    raw.write_text("a,b\n1,2\n")

    def broken_commit() -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(db, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        commit_new_dataset(db, settings, engine, owner, raw, "a.csv", "a", IngestOptions())
    monkeypatch.undo()
    assert [p for p in settings.revisions_dir.rglob("*") if p.is_file()] == []
    assert db.scalar(select(func.count()).select_from(Revision)) == 0


def test_sweep_removes_old_unreferenced_files_and_keeps_referenced_ones(
    db: Session, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    owner = create_user(db, "owner", "password-123")
    raw = tmp_path / "a.csv"
    raw.write_text("a,b\n1,2\n")
    _, revision, _ = commit_new_dataset(
        db, settings, engine, owner, raw, "a.csv", "a", IngestOptions()
    )
    kept = settings.revisions_dir / revision.path
    orphan_dir = settings.revisions_dir / "0b9a4a0e-2f0c-4d6e-9a59-6f1f6d2f0a11"
    orphan_dir.mkdir()
    orphan = orphan_dir / "0b9a4a0e-2f0c-4d6e-9a59-6f1f6d2f0a12.parquet"
    young = orphan_dir / "0b9a4a0e-2f0c-4d6e-9a59-6f1f6d2f0a13.parquet"
    orphan.write_bytes(b"x")
    young.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    assert sweep_orphans(db, settings) == 1
    assert kept.exists()
    assert not orphan.exists()
    assert young.exists()


def age(path: Path, seconds: float) -> None:
    """Make ``path`` and what is directly in it look ``seconds`` old."""
    then = time.time() - seconds
    for item in [path, *path.iterdir()]:
        os.utime(item, (then, then))


def scratch(directory: Path, *, old: bool) -> Path:
    directory.mkdir(parents=True)
    (directory / "data.csv").write_text("a\n1\n")
    if old:
        age(directory, 7200)
    return directory


def test_the_leftovers_of_a_crashed_submission_or_validator_are_removed_after_an_hour(
    db: Session, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings.ensure_dirs()
    owner = create_user(db, "owner", "password-123")
    db.commit()
    run_id, _ = make_run(sessions, owner.id)
    old_staging = scratch(PendingInputs(settings).staging, old=True)
    young_staging = scratch(PendingInputs(settings).staging, old=False)
    old_validator = scratch(settings.tmp_dir / f"validate-{uuid.uuid4().hex}", old=True)
    not_ours = scratch(settings.tmp_dir / "keep-me", old=True)
    orphan_inputs = scratch(run_inputs_dir(settings.data_dir, str(uuid.uuid4())), old=True)
    young_orphan = scratch(run_inputs_dir(settings.data_dir, str(uuid.uuid4())), old=False)
    run_inputs = scratch(run_inputs_dir(settings.data_dir, run_id), old=True)

    assert sweep_orphans(db, settings) == 3
    assert not old_staging.exists()
    assert not old_validator.exists()
    assert not orphan_inputs.exists()
    for kept in (young_staging, not_ours, young_orphan, run_inputs):
        assert (kept / "data.csv").exists(), kept
