"""Settings, read from ``DATAMILL_*`` environment variables.

Every field carries a description because the settings table in ``docs/settings.md`` is generated
from this class (``python -m datamill.config``) and a test fails when the two drift apart.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """The whole configuration of one Datamill process."""

    model_config = SettingsConfigDict(env_prefix="DATAMILL_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory holding the SQLite database, revision files and the secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database. Default: an SQLite file `datamill.db` in the data "
            "directory (WAL mode). For PostgreSQL: `postgresql+psycopg://user@host/db`."
        ),
    )
    database_connections: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "Database connections one process keeps open for reuse (as many more may be opened "
            "for a burst, and closed after it). About the requests a process serves at once: "
            "opening a connection costs far more than a query. On PostgreSQL, keep the sum "
            "over all processes below the server's `max_connections`."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `datamill serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `datamill serve` listens on.")
    secret_key: str | None = Field(
        default=None,
        min_length=MIN_SECRET_LENGTH,
        description=(
            "Key for hashing session and API tokens. When unset, one is generated on first start "
            "and kept in `<data_dir>/secret_key` (mode 0600)."
        ),
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        ge=1,
        description="Largest accepted upload, in bytes (default 2 GiB).",
    )
    session_days: int = Field(
        default=14, ge=1, description="Lifetime of a sign-in session, in days."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark cookies `Secure` (set this when Datamill is served over HTTPS).",
    )
    login_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed per user and address before further tries get 429.",
    )
    login_attempts_per_address: int = Field(
        default=50,
        ge=1,
        description="Failed sign-ins allowed per client address, whatever the usernames tried.",
    )
    login_window_seconds: int = Field(
        default=900,
        ge=1,
        description="Window over which failed sign-ins are counted, in seconds.",
    )
    view_cache_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        description=(
            "Disk budget for materialised sorted/filtered grid views; least recently used views "
            "are evicted beyond it."
        ),
    )
    duckdb_memory_limit: str = Field(
        default="1GB",
        description="Memory limit of the embedded DuckDB engine; larger sorts spill to disk.",
    )
    executor: Literal["local", "celery"] = Field(
        default="local",
        description=(
            "Who runs pipeline steps: `local`, a pool of worker processes started by "
            "`datamill serve`, or `celery`, workers started by `datamill worker` that read a "
            "broker."
        ),
    )
    workers: int = Field(
        default=2,
        ge=0,
        le=256,
        description=(
            "Worker processes of the local pool (`datamill serve --workers N`). 0 starts none: "
            "steps wait until a pool or Celery worker takes them."
        ),
    )
    broker_url: str | None = Field(
        default=None,
        description=(
            "Celery broker, `redis://host:6379/0` or `amqp://user:password@host:5672//`. "
            "Needed when the executor is `celery`."
        ),
    )
    events_url: str | None = Field(
        default=None,
        description=(
            "Redis URL for live events (`redis://host:6379/1`), so that every API process "
            "delivers every event. Unset: events stay within the process (or, with Celery on a "
            "Redis broker, go through that Redis)."
        ),
    )
    max_active_runs: int = Field(
        default=20,
        ge=1,
        description=(
            "Runs a member may have queued or running at once; the next submission gets 429. "
            "Administrators are not limited."
        ),
    )
    operations_queue: str = Field(
        default="default",
        pattern=r"^[a-z][a-z0-9_-]{0,63}$",
        description=(
            "The queue cleaning operations run on: a queue of workers with the memory for "
            "large tables, say (`datamill worker --queues operations`)."
        ),
    )
    heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="How often a worker tells that it is alive, in seconds."
    )
    heartbeat_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "A worker silent for this long is lost: its running steps are dispatched again, or "
            "failed with the reason `worker lost` when no attempt is left."
        ),
    )
    redeliver_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "A dispatched step not started after this long is sent again, in case the message "
            "was lost between the database and the executor (a crash at the wrong moment). "
            "Sending twice is safe; a long queue is not a lost message, so keep it generous."
        ),
    )
    tick_seconds: float = Field(
        default=2.0,
        gt=0,
        description=(
            "How often the orchestrator looks for due retries, timed-out steps and lost workers."
        ),
    )
    step_log_bytes: int = Field(
        default=10 * 1024**2,
        ge=1024,
        description="Largest step log kept; beyond it the log is cut and says so.",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses insecure settings (cookies without `Secure`).",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def model_post_init(self, context: object, /) -> None:
        if self.environment == "production" and not self.cookie_secure:
            raise ValueError(
                "DATAMILL_COOKIE_SECURE must be true when DATAMILL_ENVIRONMENT=production"
            )
        if self.executor == "celery" and not self.broker_url:
            raise ValueError(
                "DATAMILL_EXECUTOR=celery needs DATAMILL_BROKER_URL (redis://... or amqp://...)"
            )

    @property
    def resolved_events_url(self) -> str | None:
        """Where events are relayed between processes: the events URL, else a Redis broker."""
        if self.events_url:
            return self.events_url
        if self.executor == "celery" and (self.broker_url or "").startswith("redis"):
            return self.broker_url
        return None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'datamill.db'}"

    @property
    def revisions_dir(self) -> Path:
        return self.data_dir / "revisions"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure_dirs(self) -> None:
        """Create the data directory tree; a no-op when it exists."""
        for path in (self.data_dir, self.revisions_dir, self.tmp_dir, self.cache_dir):
            path.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The secret key: the configured one, else the one kept in the data directory.

        Generated once and stored with mode 0600 so that restarts keep sessions and tokens valid.
        """
        if self.secret_key:
            return self.secret_key
        self.ensure_dirs()
        path = self.data_dir / SECRET_KEY_FILE
        if not path.exists():
            _write_new_key(path)
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"{path} holds no usable key (under {MIN_SECRET_LENGTH} characters); "
                "remove it to have a new one made (this signs everyone out)"
            )
        return key


def _write_new_key(path: Path) -> None:
    """Write a fresh key beside ``path`` and link it into place, so that the file appears whole
    or not at all; if another process got there first, its key is kept."""
    temp = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def settings_table() -> str:
    """The settings documentation as a Markdown table."""
    lines = [
        "# Settings",
        "",
        "Every setting is an environment variable. This file is generated by "
        "`make docs-settings` from `src/datamill/config.py`.",
        "",
        "| Variable | Default | Description |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default is None else f"`{default}`"
        lines.append(f"| `DATAMILL_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(settings_table())
