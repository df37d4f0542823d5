"""Settings document themselves, and the generated table in docs/ is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from datamill.config import Settings, settings_table
from datamill.db.engine import make_engine

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_docs_settings_table_is_current() -> None:
    assert DOCS.read_text() == settings_table(), "run `make docs-settings`"


def test_settings_come_from_datamill_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATAMILL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATAMILL_PORT", "9123")
    settings = Settings()
    assert settings.port == 9123
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/datamill.db"


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.resolved_secret_key()
    assert Settings(data_dir=tmp_path).resolved_secret_key() == first
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_cookies_without_secure(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(data_dir=tmp_path, environment="production")


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, secret_key="short")


def test_an_in_memory_sqlite_database_gets_an_engine(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path, database_url="sqlite://"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()
