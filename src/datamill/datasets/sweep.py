"""Removing files that no database row references.

A revision file is renamed into place before its row is committed; a crash between the two leaves
a file nobody can reach. So does a run submission: its inputs wait in ``tmp/run-inputs-<hex>/``,
move to ``inputs/<run id>/`` and only then is the run's row committed; and a crash while a task
validator runs leaves its ``tmp/validate-<hex>/``. On start, such files and directories and stale
temporaries are deleted.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import Revision, Run, looks_like_id
from datamill.runs.inputs import INPUTS_DIR

log = logging.getLogger(__name__)
STALE_TEMP_SECONDS = 24 * 3600
# Another API process may have renamed a file and not yet committed its row: leave young files.
ORPHAN_GRACE_SECONDS = 3600
# The working directories of runs/inputs.py: a submission's staged inputs, a validator's run.
SCRATCH_DIR = re.compile(r"(run-inputs|validate)-[0-9a-f]{32}")


def sweep_orphans(db: Session, settings: Settings) -> int:
    """Delete unreferenced revision files, day-old temporaries, and the run inputs, staging and
    validator directories a crash left behind; returns how many went."""
    known = set(db.scalars(select(Revision.path)).all())
    removed = 0
    root = settings.revisions_dir
    grace = time.time() - ORPHAN_GRACE_SECONDS
    for path in root.glob("*/*.parquet"):
        if path.relative_to(root).as_posix() not in known and path.stat().st_mtime < grace:
            path.unlink(missing_ok=True)
            removed += 1
    cutoff = time.time() - STALE_TEMP_SECONDS
    for path in root.glob("*/.*.tmp"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    for path in settings.tmp_dir.glob(".*.tmp"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    for directory in root.iterdir():
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    removed += _sweep_run_scratch(db, settings, grace)
    if removed:
        log.info("removed %d orphaned files", removed)
    return removed


def _sweep_run_scratch(db: Session, settings: Settings, grace: float) -> int:
    """Delete old submission and validator directories, and run inputs without a run row."""
    removed = 0
    if settings.tmp_dir.is_dir():
        for path in settings.tmp_dir.iterdir():
            if SCRATCH_DIR.fullmatch(path.name) and path.is_dir() and _older(path, grace):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
    inputs = settings.data_dir / INPUTS_DIR
    if not inputs.is_dir():
        return removed
    old = [p for p in inputs.iterdir() if looks_like_id(p.name) and p.is_dir() and _older(p, grace)]
    for start in range(0, len(old), 500):
        batch = old[start : start + 500]
        names = [path.name for path in batch]
        known = set(db.scalars(select(Run.id).where(Run.id.in_(names))).all())
        for path in batch:
            if path.name not in known:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
    return removed


def _older(directory: Path, cutoff: float) -> bool:
    """Whether ``directory`` and everything directly in it were last changed before ``cutoff``."""
    try:
        stamps = [directory.stat().st_mtime, *(p.stat().st_mtime for p in directory.iterdir())]
    except FileNotFoundError:
        return False
    return max(stamps) < cutoff
