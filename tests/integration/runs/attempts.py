"""Helpers for tests that run step attempts with :func:`execute_attempt` in the test process:
a clock, registering tasks and a pipeline and starting a run, reading its rows back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import Run, RunStep, User
from datamill.pipelines import store
from datamill.runs.effects import Dispatch
from datamill.runs.orchestrator import create_run

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "tasks"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock that moves one second every time it is read."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> datetime:
        self.ticks += 1
        return T0 + timedelta(seconds=self.ticks)


def start_run(
    db: Session,
    owner: User,
    tasks: list[str | dict[str, Any]],
    pipeline: str,
    params: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
) -> tuple[str, list[Dispatch]]:
    for task in tasks:
        store.create_task(db, task if isinstance(task, str) else json.dumps(task), owner)
    version = store.save_pipeline(db, store.read_pipeline(pipeline), pipeline, owner)
    run_id, effects = create_run(
        db, version.pipeline_id, version.id, owner.id, params or {}, inputs or {}, T0
    )
    db.commit()
    return run_id, [effect for effect in effects if isinstance(effect, Dispatch)]


def one_step(task: dict[str, Any], with_: dict[str, Any] | None = None) -> str:
    params = "params: {value: {type: string}}\n" if with_ else ""
    return (
        f"name: single\n{params}steps:\n"
        f"  only: {json.dumps({'task': task['name'], 'with': with_ or {}})}\n"
    )


def step_rows(db: Session, run_id: str) -> dict[str, RunStep]:
    db.expire_all()
    return {row.name: row for row in db.scalars(select(RunStep).where(RunStep.run_id == run_id))}


def run_state(db: Session, run_id: str) -> str:
    db.expire_all()
    run = db.get(Run, run_id)
    assert run is not None
    return run.state


def workdir(settings: Settings, run_id: str, step: str, attempt: int = 1) -> Path:
    return settings.data_dir / "work" / run_id / step / str(attempt)


def store_input(settings: Settings, text: str) -> str:
    path = settings.data_dir / "uploads" / "input.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "uploads/input.txt"
