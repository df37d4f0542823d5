"""The local pool: real worker processes running real steps, killed, cancelled and crashed.

On both dialects: the pool's children open their own connections to the test's database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.db.models import User, Worker, utcnow
from datamill.events.bus import MemoryBus
from datamill.executors.local import LocalPool
from datamill.executors.registry import DOWN, UP
from datamill.executors.setup import open_executor
from datamill.runs import machine
from datamill.runs.orchestrator import apply
from datamill.runs.timer import RunTimer
from tests.fixtures.workers import (
    EXAMPLES,
    TEXT_STATS,
    alive,
    byte_count,
    count_lines,
    finished,
    normalise,
    one_step,
    steps_of,
    submit,
    wait_for,
)


def python_task(name: str, function: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "python",
        "function": f"tests.fixtures.task_functions:{function}",
    } | fields


def start_sleeping(
    sessions: sessionmaker[Session],
    pool: LocalPool,
    owner: User,
    settings: Settings,
    tmp_path: Path,
) -> tuple[str, int]:
    """A run whose one step runs ``sleep 30`` as a command; its id and the command's pid."""
    script = tmp_path / "sleepy.sh"
    script.write_text("echo $$ > pid.txt\nexec sleep 30\n", encoding="utf-8")
    task = {"name": "sleepy", "kind": "command", "command": ["bash", str(script)]}
    run_id = submit(sessions, pool.deliver, owner, [task], one_step("sleepy"))
    pid_file = settings.data_dir / "work" / run_id / "only" / "1" / "pid.txt"
    pid = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip(), "the command"))
    return run_id, pid


@pytest.fixture
def pool_settings(settings: Settings) -> Settings:
    """The test's settings (same data directory and database) with a pool of two."""
    return settings.model_copy(update={"workers": 2, "heartbeat_seconds": 0.5})


@pytest.fixture
def owner(sessions: sessionmaker[Session]) -> User:
    with sessions() as db:
        user = create_user(db, "owner", "password-123")
        db.commit()
        return user


@pytest.fixture
def pool(
    pool_settings: Settings,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LocalPool]:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # spawned workers inherit the import path
    executor, _deliver = open_executor(pool_settings, sessions, MemoryBus())
    assert isinstance(executor, LocalPool)
    yield executor
    executor.close()


def test_the_pool_runs_a_python_a_bash_and_a_c_step_in_its_worker_processes(
    pool: LocalPool,
    sessions: sessionmaker[Session],
    pool_settings: Settings,
    owner: User,
    tmp_path: Path,
) -> None:
    text = pool_settings.data_dir / "uploads" / "text.txt"
    text.parent.mkdir(parents=True)
    text.write_text("  alpha \n\nbeta\n gamma\n", encoding="utf-8")
    tasks = [normalise(), count_lines(), byte_count(tmp_path)]
    run_id = submit(sessions, pool.deliver, owner, tasks, TEXT_STATS, {"text": "uploads/text.txt"})

    run = finished(sessions, run_id)

    assert (run.state, run.error) == ("succeeded", None)
    steps = steps_of(sessions, run_id)
    assert steps["normalise"].outputs["lines"] == 3
    assert steps["count"].outputs == {"count": 3}
    assert steps["measure"].outputs == {"size": {"label": "size", "bytes": 17}}
    assert {step.worker_id for step in steps.values()} <= set(pool.worker_ids)


def test_a_worker_killed_in_the_middle_of_a_step_is_replaced_and_the_step_runs_again(
    pool: LocalPool, sessions: sessionmaker[Session], pool_settings: Settings, owner: User
) -> None:
    seconds = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    outputs = {"attempt": {"kind": "value"}}
    task = python_task("slow-once", "slow_once", retries=1, params=seconds, outputs=outputs)
    run_id = submit(sessions, pool.deliver, owner, [task], one_step("slow-once", {"seconds": 30}))
    marker = pool_settings.data_dir / "work" / run_id / "only" / "1" / "started"
    pid = int(wait_for(lambda: marker.is_file() and marker.read_text(), "the first attempt"))

    os.kill(pid, 9)
    run = finished(sessions, run_id)

    assert run.state == "succeeded"
    step = steps_of(sessions, run_id)["only"]
    assert (step.attempt, step.outputs) == (2, {"attempt": 2})
    assert len(pool.worker_ids) == 2
    with sessions() as db:
        killed = db.scalar(select(Worker).where(Worker.pid == pid))
        assert killed is not None and killed.state == DOWN


def test_a_task_that_crashes_its_process_fails_with_worker_lost_and_the_pool_goes_on(
    pool: LocalPool, sessions: sessionmaker[Session], owner: User
) -> None:
    crashing = submit(
        sessions, pool.deliver, owner, [python_task("crash", "crash")], one_step("crash")
    )

    run = finished(sessions, crashing)

    assert (run.state, run.error) == ("failed", "step 'only' failed: worker lost")
    healthy = submit(sessions, pool.deliver, owner, [python_task("noop", "noop")], one_step("noop"))
    assert finished(sessions, healthy).state == "succeeded"
    assert len(pool.worker_ids) == 2


def test_cancelling_a_run_stops_its_running_command_and_frees_the_worker(
    pool: LocalPool,
    sessions: sessionmaker[Session],
    pool_settings: Settings,
    owner: User,
    tmp_path: Path,
) -> None:
    run_id, pid = start_sleeping(sessions, pool, owner, pool_settings, tmp_path)

    with sessions() as db:
        outcome = apply(db, run_id, machine.cancel, now=utcnow())
        db.commit()
    pool.deliver(run_id, outcome.effects)

    assert finished(sessions, run_id).state == "cancelled"
    wait_for(lambda: not alive(pid), "the command to be killed", deadline=5)
    wait_for(lambda: len(pool.worker_ids) == 2 and not pool.busy, "a replaced, idle pool", 10)


def test_a_step_running_when_the_server_stops_runs_again_after_the_restart(
    pool: LocalPool, sessions: sessionmaker[Session], pool_settings: Settings, owner: User
) -> None:
    seconds = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    outputs = {"attempt": {"kind": "value"}}
    task = python_task("slow-once", "slow_once", params=seconds, outputs=outputs)  # no retries
    run_id = submit(sessions, pool.deliver, owner, [task], one_step("slow-once", {"seconds": 30}))
    marker = pool_settings.data_dir / "work" / run_id / "only" / "1" / "started"
    wait_for(marker.is_file, "the first attempt")

    pool.close()

    step = steps_of(sessions, run_id)["only"]
    assert (step.state, step.error) == ("queued", None)
    restarted, deliver = open_executor(pool_settings, sessions, MemoryBus())
    try:
        timer = RunTimer(sessions, deliver, pool_settings)
        timer.start()
        run = finished(sessions, run_id)
        timer.close()
    finally:
        restarted.close()
    assert run.state == "succeeded"
    assert steps_of(sessions, run_id)["only"].outputs == {"attempt": 2}


def test_closing_the_pool_marks_its_workers_down(
    pool_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    executor, _ = open_executor(pool_settings, sessions, MemoryBus())
    assert isinstance(executor, LocalPool)
    ids = executor.worker_ids
    with sessions() as db:
        assert {w.state for w in db.scalars(select(Worker).where(Worker.id.in_(ids)))} == {UP}

    executor.close()

    with sessions() as db:
        assert {w.state for w in db.scalars(select(Worker).where(Worker.id.in_(ids)))} == {DOWN}


def test_a_worker_killed_outright_takes_its_command_with_it(
    pool: LocalPool,
    sessions: sessionmaker[Session],
    pool_settings: Settings,
    owner: User,
    tmp_path: Path,
) -> None:
    run_id, pid = start_sleeping(sessions, pool, owner, pool_settings, tmp_path)
    worker = steps_of(sessions, run_id)["only"].worker_id
    assert worker is not None

    os.kill(pool.pids[worker], 9)

    wait_for(lambda: not alive(pid), "the command to go with its worker", deadline=5)
    assert finished(sessions, run_id).error == "step 'only' failed: worker lost"
