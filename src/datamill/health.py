"""Checks behind ``GET /api/v1/health``.

The endpoint needs no sign-in, so it says whether each part works and no more: paths, free space
and error texts go to the server log, not to anonymous callers.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

from datamill.config import Settings
from datamill.schemas.health import Check
from datamill.storage.files import temp_path

log = logging.getLogger(__name__)


def check_database(engine: Engine) -> Check:
    dialect = engine.dialect.name
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # any failure to reach the database is the answer itself
        log.exception("health: the database is unavailable")
        return Check(ok=False, detail=f"{dialect}: unavailable (see the server log)")
    return Check(ok=True, detail=f"{dialect}, schema revision {version}")


def check_storage(settings: Settings) -> Check:
    try:
        probe = temp_path(settings.tmp_dir, ".health")
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError:
        log.exception("health: the data directory is not writable")
        return Check(ok=False, detail="data directory not writable (see the server log)")
    return Check(ok=True, detail="data directory writable")
