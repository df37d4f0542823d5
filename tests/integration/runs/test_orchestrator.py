"""The run state machine in the database, on every dialect: rows follow transitions, late and
duplicated messages change nothing, and the timer recovers from silent workers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.db.models import Run, RunStep, User, Worker
from datamill.pipelines import store
from datamill.runs import machine
from datamill.runs.effects import Dispatch, Outcome, Terminate
from datamill.runs.orchestrator import (
    RunEffect,
    Transition,
    active_runs,
    apply,
    create_run,
    load_run,
    tick,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

EXTRACT = """
name: extract
kind: command
command: [echo, extract]
retries: 1
timeout: 60
"""

LOAD = """
name: load
kind: command
command: [echo, load]
queue: heavy
"""

TWO_STEPS = """
name: two-steps
steps:
  first: {task: extract}
  second: {task: load, depends_on: [first]}
"""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def owner(db: Session) -> User:
    user = create_user(db, "owner", "password-123")
    store.create_task(db, EXTRACT, user)
    store.create_task(db, LOAD, user)
    db.commit()
    return user


@pytest.fixture
def run_id(db: Session, owner: User) -> str:
    version = store.save_pipeline(db, store.read_pipeline(TWO_STEPS), TWO_STEPS, owner)
    created, effects = create_run(db, version.pipeline_id, version.id, owner.id, {}, {}, at(0))
    db.commit()
    assert [e for e in effects if isinstance(e, Dispatch)] == [Dispatch("first", 1, "default")]
    return created


def make_worker(db: Session, heartbeat: datetime) -> str:
    worker = Worker(hostname="host", pid=1, queues=["default"], state="idle")
    worker.started_at = worker.last_heartbeat_at = heartbeat
    db.add(worker)
    db.commit()
    return worker.id


def steps(db: Session, run_id: str) -> dict[str, RunStep]:
    db.expire_all()
    rows = db.scalars(select(RunStep).where(RunStep.run_id == run_id))
    return {row.name: row for row in rows}


def run_row(db: Session, run_id: str) -> Run:
    db.expire_all()
    run = db.get(Run, run_id)
    assert run is not None
    return run


def snapshot(db: Session, run_id: str) -> list[tuple[object, ...]]:
    rows = steps(db, run_id).values()
    run = run_row(db, run_id)
    ordered = sorted(
        (r.name, r.state, r.attempt, r.worker_id, r.queued_at, r.next_attempt_at, r.error)
        for r in rows
    )
    return [(run.state, run.started_at, run.finished_at), *ordered]


def start(db: Session, run_id: str, step: str, attempt: int, worker: str, now: float) -> None:
    assert apply(db, run_id, machine.started, step, attempt, worker, now=at(now)).applied
    db.commit()


def test_create_run_pins_tasks_and_dispatches_the_first_step_only(db: Session, run_id: str) -> None:
    rows = steps(db, run_id)
    assert rows["first"].state == "queued" and rows["first"].attempt == 1
    assert rows["first"].queued_at == at(0)
    assert (rows["first"].max_attempts, rows["first"].queue) == (2, "default")
    assert rows["first"].task["timeout"] == 60
    assert rows["second"].attempt == 0 and rows["second"].queued_at is None
    assert (rows["second"].max_attempts, rows["second"].queue) == (1, "heavy")
    assert run_row(db, run_id).state == "queued"
    assert active_runs(db) == [run_id]


def test_success_of_the_first_step_dispatches_the_second(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    run = run_row(db, run_id)
    assert (run.state, run.started_at) == ("running", at(1))
    assert steps(db, run_id)["first"].worker_id == worker

    outcome = apply(db, run_id, machine.succeeded, "first", 1, {"n": 3}, now=at(2))
    db.commit()
    assert outcome.dispatches == [Dispatch("second", 1, "heavy")]
    rows = steps(db, run_id)
    assert (rows["first"].state, rows["first"].outputs) == ("succeeded", {"n": 3})
    assert (rows["second"].attempt, rows["second"].queued_at) == (1, at(2))

    start(db, run_id, "second", 1, worker, 3)
    apply(db, run_id, machine.succeeded, "second", 1, {}, now=at(4))
    db.commit()
    run = run_row(db, run_id)
    assert (run.state, run.finished_at) == ("succeeded", at(4))
    assert active_runs(db) == []


def test_a_failure_with_retries_left_waits_for_its_backoff(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    apply(db, run_id, machine.failed, "first", 1, "exit status 1", now=at(2))
    db.commit()
    first = steps(db, run_id)["first"]
    assert (first.state, first.error, first.worker_id) == ("queued", "exit status 1", None)
    assert first.next_attempt_at == at(3)  # 1 s after the first failure
    assert first.queued_at is None

    assert tick(db, at(2.5), heartbeat_timeout=30) == []
    effects = tick(db, at(3), heartbeat_timeout=30)
    db.commit()
    assert RunEffect(run_id, Dispatch("first", 2)) in effects
    first = steps(db, run_id)["first"]
    assert (first.attempt, first.queued_at, first.next_attempt_at) == (2, at(3), None)

    start(db, run_id, "first", 2, worker, 4)
    apply(db, run_id, machine.failed, "first", 2, "exit status 1", now=at(5))
    db.commit()
    rows = steps(db, run_id)
    assert (rows["first"].state, rows["second"].state) == ("failed", "upstream_failed")
    run = run_row(db, run_id)
    assert (run.state, run.finished_at) == ("failed", at(5))
    assert run.error == "step 'first' failed: exit status 1"


def test_duplicated_and_late_messages_change_nothing(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    apply(db, run_id, machine.failed, "first", 1, "boom", now=at(2))
    tick(db, at(3), heartbeat_timeout=30)
    db.commit()
    start(db, run_id, "first", 2, worker, 4)
    before = snapshot(db, run_id)

    late: list[tuple[Transition, tuple[object, ...]]] = [
        (machine.started, ("first", 2, worker)),  # duplicated delivery of attempt 2
        (machine.started, ("first", 1, worker)),  # the old attempt
        (machine.succeeded, ("first", 1, {})),
        (machine.failed, ("first", 1, "late")),
        (machine.lost, ("first", 1, worker)),
        (machine.succeeded, ("second", 1, {})),  # never dispatched
    ]
    for transition, args in late:
        assert not apply(db, run_id, transition, *args, now=at(5)).applied
        db.commit()
    assert snapshot(db, run_id) == before


def test_cancel_terminates_the_running_step_and_ends_the_run(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    outcome = apply(db, run_id, machine.cancel, now=at(2))
    db.commit()
    assert outcome.terminations == [Terminate("first", 1, worker)]
    assert {r.state for r in steps(db, run_id).values()} == {"cancelled"}
    run = run_row(db, run_id)
    assert (run.state, run.finished_at) == ("cancelled", at(2))
    assert not apply(db, run_id, machine.cancel, now=at(3)).applied
    assert not apply(db, run_id, machine.succeeded, "first", 1, {}, now=at(3)).applied


def test_tick_redispatches_a_step_whose_worker_went_silent(db: Session, run_id: str) -> None:
    silent = make_worker(db, at(0))
    start(db, run_id, "first", 1, silent, 1)
    assert tick(db, at(20), heartbeat_timeout=30) == []

    effects = tick(db, at(31), heartbeat_timeout=30)
    db.commit()
    assert RunEffect(run_id, Terminate("first", 1, silent)) in effects
    assert RunEffect(run_id, Dispatch("first", 2)) in effects
    first = steps(db, run_id)["first"]
    assert (first.state, first.attempt, first.error) == ("queued", 2, "worker lost")


def test_tick_fails_a_lost_step_without_attempts_left(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    apply(db, run_id, machine.succeeded, "first", 1, {}, now=at(2))
    db.commit()
    start(db, run_id, "second", 1, worker, 3)

    tick(db, at(40), heartbeat_timeout=30)
    db.commit()
    second = steps(db, run_id)["second"]
    assert (second.state, second.error) == ("failed", "worker lost")
    assert run_row(db, run_id).state == "failed"


def test_tick_times_out_a_step_past_its_task_timeout(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    start(db, run_id, "first", 1, worker, 1)
    db.get_one(Worker, worker).last_heartbeat_at = at(60)
    db.commit()
    effects = tick(db, at(61), heartbeat_timeout=30)
    db.commit()
    assert RunEffect(run_id, Terminate("first", 1, worker)) in effects
    first = steps(db, run_id)["first"]
    assert (first.state, first.error) == ("queued", "timed out after 60 s")


def test_retry_starts_a_fresh_round_that_survives_a_reload(db: Session, run_id: str) -> None:
    worker = make_worker(db, at(0))
    for attempt in (1, 2):
        tick(db, at(attempt * 10), heartbeat_timeout=1000)
        start(db, run_id, "first", attempt, worker, attempt * 10 + 1)
        apply(db, run_id, machine.failed, "first", attempt, "boom", now=at(attempt * 10 + 2))
        db.commit()
    assert run_row(db, run_id).state == "failed"

    outcome = apply(db, run_id, machine.retry, now=at(30))
    db.commit()
    assert outcome.dispatches == [Dispatch("first", 3)]
    first = load_run(db, run_id, lock=False).record.steps["first"]
    assert (first.attempt, first.attempts_before, first.attempts_left) == (3, 2, 1)
    run = run_row(db, run_id)
    assert (run.state, run.finished_at, run.error) == ("queued", None, None)


@pytest.mark.parametrize("dialect", ["postgresql"])  # SQLite has no row lock to take
def test_a_locked_load_holds_the_run_row_on_postgresql(
    db: Session, run_id: str, sessions: sessionmaker[Session]
) -> None:
    load_run(db, run_id, lock=True)
    with sessions() as other, pytest.raises(OperationalError):
        other.execute(select(Run).where(Run.id == run_id).with_for_update(nowait=True))
    db.commit()
    with sessions() as other:
        other.execute(select(Run).where(Run.id == run_id).with_for_update(nowait=True))


PARALLEL = """
name: parallel
steps:
  left: {task: extract}
  right: {task: load}
"""


def test_the_last_of_two_concurrent_successes_sees_the_first_and_ends_the_run(
    db: Session, owner: User, sessions: sessionmaker[Session]
) -> None:
    version = store.save_pipeline(db, store.read_pipeline(PARALLEL), PARALLEL, owner)
    run_id, _ = create_run(db, version.pipeline_id, version.id, owner.id, {}, {}, at(0))
    db.commit()
    start(db, run_id, "left", 1, make_worker(db, at(0)), 1)
    start(db, run_id, "right", 1, make_worker(db, at(0)), 1)

    assert not apply(db, run_id, machine.succeeded, "left", 1, {}, now=at(2)).run.terminal
    with ThreadPoolExecutor(1) as other:
        # Waits for the run's lock, which ``db`` holds until it commits.
        second = other.submit(
            lambda: _commit(sessions, run_id, machine.succeeded, "right", 1, {}, now=at(3))
        )
        time.sleep(0.2)
        assert not second.done()
        db.commit()
        assert second.result(timeout=10).run.state == "succeeded"
    run = run_row(db, run_id)
    assert (run.state, run.finished_at) == ("succeeded", at(3))


def _commit(
    sessions: sessionmaker[Session], run_id: str, transition: Transition, *args: Any, now: datetime
) -> Outcome:
    with sessions() as other:
        outcome = apply(other, run_id, transition, *args, now=now)
        other.commit()
        return outcome


def test_a_run_lists_its_steps_by_name_whatever_their_order_in_the_spec(
    db: Session, owner: User
) -> None:
    text = "name: backwards\nsteps:\n  zulu: {task: extract}\n  alpha: {task: load}\n"
    version = store.save_pipeline(db, store.read_pipeline(text), text, owner)
    run_id, _ = create_run(db, version.pipeline_id, version.id, owner.id, {}, {}, at(0))
    db.commit()
    assert list(load_run(db, run_id, lock=False).record.steps) == ["alpha", "zulu"]
