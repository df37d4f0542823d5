"""Fixtures of the step attempt tests: an owner, a worker row, the example tasks importable, and
``execute(run_id, step, attempt, **options)`` running one attempt in this process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.db.models import User, Worker
from datamill.runs.execution import execute_attempt
from tests.integration.runs.attempts import EXAMPLES, T0, Clock


@pytest.fixture
def owner(db: Session) -> User:
    user = create_user(db, "owner", "password-123")
    db.commit()
    return user


@pytest.fixture
def worker(db: Session) -> str:
    row = Worker(hostname="host", pid=1, queues=["default"], state="idle")
    row.started_at = row.last_heartbeat_at = T0
    db.add(row)
    db.commit()
    return row.id


@pytest.fixture
def examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.fixture
def execute(sessions: sessionmaker[Session], settings: Settings, worker: str) -> Callable[..., Any]:
    clock = Clock()

    def run_attempt(run_id: str, step: str, attempt: int, **options: Any) -> Any:
        return execute_attempt(sessions, settings, run_id, step, attempt, worker, clock, **options)

    return run_attempt
