"""Removing files that no database row references.

A revision file is renamed into place before its row is committed; a crash between the two leaves
a file nobody can reach. On start, such files and stale temporaries are deleted.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import Revision

log = logging.getLogger(__name__)
STALE_TEMP_SECONDS = 24 * 3600
# Another API process may have renamed a file and not yet committed its row: leave young files.
ORPHAN_GRACE_SECONDS = 3600


def sweep_orphans(db: Session, settings: Settings) -> int:
    """Delete unreferenced revision files and day-old temporaries; returns how many went."""
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
    if removed:
        log.info("removed %d orphaned files", removed)
    return removed
