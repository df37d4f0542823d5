"""A revision's file and row land together, or neither does."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions
from datamill.datasets.revisions import commit_new_dataset
from datamill.datasets.sweep import sweep_orphans
from datamill.db.models import Revision


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
