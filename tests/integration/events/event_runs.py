"""Runs made and moved through the orchestrator, for tests that watch their events.

The steps never run: a test plays the worker, applying ``started`` and ``succeeded`` itself and
carrying out the effects through the app's ``deliver``, as a worker would after its commit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from datamill.db.models import User, utcnow
from datamill.executors.base import Deliver
from datamill.executors.registry import register_worker
from datamill.pipelines import store
from datamill.runs import machine
from datamill.runs.effects import Dispatch, Outcome
from datamill.runs.orchestrator import Transition, apply, create_run

ECHO = {
    "name": "echo",
    "kind": "command",
    "command": ["echo", "hello"],
    "queue": "fast",
    "retries": 1,
}
PIPELINE = """
name: two-echoes
steps:
  first: {task: echo}
  second: {task: echo, depends_on: [first]}
"""


def make_run(sessions: sessionmaker[Session], owner_id: str) -> tuple[str, list[Dispatch]]:
    """A committed run of the two-step pipeline, owned by ``owner_id``; its first dispatches."""
    with sessions() as db:
        owner = db.get(User, owner_id)
        assert owner is not None
        if store.find_task(db, "echo") is None:
            store.create_task(db, json.dumps(ECHO), owner)
            store.save_pipeline(db, store.read_pipeline(PIPELINE), PIPELINE, owner)
        pipeline = store.get_pipeline(db, "two-echoes")
        version = store.latest_version(db, pipeline)
        run_id, effects = create_run(db, pipeline.id, version.id, owner.id, {}, {}, utcnow())
        db.commit()
        return run_id, [effect for effect in effects if isinstance(effect, Dispatch)]


def make_worker(sessions: sessionmaker[Session], now: datetime | None = None) -> str:
    with sessions() as db:
        worker = register_worker(db, ["fast"], now or utcnow())
        db.commit()
        return worker.id


def advance(
    sessions: sessionmaker[Session],
    deliver: Deliver,
    run_id: str,
    transition: Transition,
    *args: Any,
    now: datetime | None = None,
) -> Outcome:
    """Apply ``transition`` to the run, commit, then carry out its effects."""
    with sessions() as db:
        outcome = apply(db, run_id, transition, *args, now=now or utcnow())
        db.commit()
    deliver(run_id, outcome.effects)
    return outcome


def start_first_step(sessions: sessionmaker[Session], deliver: Deliver, run_id: str) -> str:
    """Make the run's first step run on a new worker; the worker's id."""
    worker = make_worker(sessions)
    outcome = advance(sessions, deliver, run_id, machine.started, "first", 1, worker)
    assert outcome.applied
    return worker
