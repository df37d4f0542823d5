"""Migrations build exactly the schema the models describe, on every dialect we ship."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from datamill.config import Settings
from datamill.db.engine import make_engine
from datamill.db.migrate import upgrade
from datamill.db.models import Base
from tests.fixtures.db import make_settings


def test_migrations_match_the_models(settings: Settings) -> None:
    engine = make_engine(settings)
    upgrade(settings, engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(settings: Settings) -> None:
    engine = make_engine(settings)
    upgrade(settings, engine)
    upgrade(settings, engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "datasets", "revisions", "alembic_version"} <= tables


def test_sqlite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d")
    engine = make_engine(settings)
    with engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    engine.dispose()
    assert mode == "wal"
