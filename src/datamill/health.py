"""Checks behind ``GET /api/v1/health``."""

from __future__ import annotations

import shutil

from sqlalchemy import Engine, text

from datamill.config import Settings
from datamill.schemas.health import Check
from datamill.storage.files import temp_path


def check_database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:  # any failure to reach the database is the answer itself
        return Check(ok=False, detail=f"{engine.dialect.name}: {type(error).__name__}: {error}")
    return Check(ok=True, detail=f"{engine.dialect.name}, schema revision {version}")


def check_storage(settings: Settings) -> Check:
    try:
        probe = temp_path(settings.tmp_dir, ".health")
        probe.write_bytes(b"ok")
        probe.unlink()
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as error:
        return Check(ok=False, detail=f"{settings.data_dir}: {error}")
    return Check(ok=True, detail=f"{settings.data_dir} writable, {free / 1024**3:.1f} GiB free")
