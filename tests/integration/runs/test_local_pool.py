"""The local pool: real worker processes running real steps, killed, cancelled and crashed.

On both dialects: the pool's children open their own connections to the test's database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.db.models import Run, RunStep, User, Worker, utcnow
from datamill.events.bus import MemoryBus
from datamill.executors.local import LocalPool
from datamill.executors.registry import DOWN, UP
from datamill.executors.setup import open_executor
from datamill.pipelines import store
from datamill.runs import machine
from datamill.runs.orchestrator import apply, create_run
from tests.fixtures.db import make_settings

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "tasks"
DEADLINE = 30.0

NORMALISE = {
    "name": "normalise",
    "kind": "python",
    "function": "text_tools:normalise",
    "inputs": {"text": {"kind": "file"}},
    "outputs": {"text": {"kind": "file"}, "lines": {"kind": "value"}},
    "params": {"type": "object", "properties": {"case": {"type": "string"}}},
}
COUNT_LINES = {
    "name": "count-lines",
    "kind": "command",
    "command": ["bash", str(EXAMPLES / "count_lines.sh"), "{inputs.text}", "{outputs.count}"],
    "inputs": {"text": {"kind": "file", "path": "inputs/text.txt"}},
    "outputs": {"count": {"kind": "value", "path": "outputs/count.txt"}},
}
TEXT_STATS = """
name: text-stats
inputs:
  text: {kind: file}
steps:
  normalise: {task: normalise, with: {text: "${inputs.text}", case: upper}}
  count: {task: count-lines, with: {text: "${steps.normalise.outputs.text}"}}
  measure: {task: byte-count, with: {text: "${steps.normalise.outputs.text}", label: size}}
"""


def python_task(name: str, function: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "python",
        "function": f"tests.fixtures.task_functions:{function}",
    } | fields


def one_step(task: str, with_: dict[str, Any] | None = None) -> str:
    return f"name: {task}-once\nsteps:\n  only: {json.dumps({'task': task, 'with': with_ or {}})}\n"


@pytest.fixture
def pool_settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url, workers=2, heartbeat_seconds=0.5)


@pytest.fixture
def pool_sessions(
    pool_settings: Settings, sessions: sessionmaker[Session]
) -> sessionmaker[Session]:
    return sessions


@pytest.fixture
def owner(pool_sessions: sessionmaker[Session]) -> User:
    with pool_sessions() as db:
        user = create_user(db, "owner", "password-123")
        db.commit()
        return user


@pytest.fixture
def pool(
    pool_settings: Settings,
    pool_sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LocalPool]:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # spawned workers inherit the import path
    executor, _deliver = open_executor(pool_settings, pool_sessions, MemoryBus())
    assert isinstance(executor, LocalPool)
    yield executor
    executor.close()


def submit(
    sessions: sessionmaker[Session],
    pool: LocalPool,
    owner: User,
    tasks: list[dict[str, Any]],
    pipeline: str,
    inputs: dict[str, Any] | None = None,
) -> str:
    with sessions() as db:
        for task in tasks:
            if store.find_task(db, task["name"]) is None:
                store.create_task(db, json.dumps(task), owner)
        spec = store.read_pipeline(pipeline)
        version = store.save_pipeline(db, spec, pipeline, owner)
        run, effects = create_run(db, version.pipeline, version, owner, {}, inputs or {}, utcnow())
        db.commit()
    pool.deliver(run.id, effects)
    return run.id


def wait_for(check: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def run_row(sessions: sessionmaker[Session], run_id: str) -> Run:
    with sessions() as db:
        run = db.get(Run, run_id)
        assert run is not None
        return run


def steps_of(sessions: sessionmaker[Session], run_id: str) -> dict[str, RunStep]:
    with sessions() as db:
        rows = db.scalars(select(RunStep).where(RunStep.run_id == run_id))
        return {row.name: row for row in rows}


def finished(sessions: sessionmaker[Session], run_id: str) -> Run:
    return wait_for(
        lambda: (run := run_row(sessions, run_id)).finished_at is not None and run,
        f"run {run_id} to finish",
    )


def byte_count_task(tmp_path: Path) -> dict[str, Any]:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is needed to build the C example task")
    binary = tmp_path / "byte_count"
    subprocess.run([gcc, "-O2", "-o", str(binary), str(EXAMPLES / "byte_count.c")], check=True)
    return {
        "name": "byte-count",
        "kind": "command",
        "command": [str(binary), "{inputs.text}", "{params.label}", "{outputs.size}"],
        "inputs": {"text": {"kind": "file"}},
        "outputs": {"size": {"kind": "value", "path": "outputs/size.json"}},
        "params": {"type": "object", "properties": {"label": {"type": "string"}}},
    }


def test_the_pool_runs_a_python_a_bash_and_a_c_step_in_its_worker_processes(
    pool: LocalPool,
    pool_sessions: sessionmaker[Session],
    pool_settings: Settings,
    owner: User,
    tmp_path: Path,
) -> None:
    text = pool_settings.data_dir / "uploads" / "text.txt"
    text.parent.mkdir(parents=True)
    text.write_text("  alpha \n\nbeta\n gamma\n", encoding="utf-8")
    tasks = [NORMALISE, COUNT_LINES, byte_count_task(tmp_path)]
    run_id = submit(pool_sessions, pool, owner, tasks, TEXT_STATS, {"text": "uploads/text.txt"})

    run = finished(pool_sessions, run_id)

    assert (run.state, run.error) == ("succeeded", None)
    steps = steps_of(pool_sessions, run_id)
    assert steps["normalise"].outputs["lines"] == 3
    assert steps["count"].outputs == {"count": 3}
    assert steps["measure"].outputs == {"size": {"label": "size", "bytes": 17}}
    assert {step.worker_id for step in steps.values()} <= set(pool.worker_ids)


def test_a_worker_killed_in_the_middle_of_a_step_is_replaced_and_the_step_runs_again(
    pool: LocalPool, pool_sessions: sessionmaker[Session], pool_settings: Settings, owner: User
) -> None:
    seconds = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    outputs = {"attempt": {"kind": "value"}}
    task = python_task("slow-once", "slow_once", retries=1, params=seconds, outputs=outputs)
    run_id = submit(pool_sessions, pool, owner, [task], one_step("slow-once", {"seconds": 30}))
    marker = pool_settings.data_dir / "work" / run_id / "only" / "1" / "started"
    pid = int(wait_for(lambda: marker.is_file() and marker.read_text(), "the first attempt"))

    os.kill(pid, 9)
    run = finished(pool_sessions, run_id)

    assert run.state == "succeeded"
    step = steps_of(pool_sessions, run_id)["only"]
    assert (step.attempt, step.outputs) == (2, {"attempt": 2})
    assert len(pool.worker_ids) == 2
    with pool_sessions() as db:
        killed = db.scalar(select(Worker).where(Worker.pid == pid))
        assert killed is not None and killed.state == DOWN


def test_a_task_that_crashes_its_process_fails_with_worker_lost_and_the_pool_goes_on(
    pool: LocalPool, pool_sessions: sessionmaker[Session], owner: User
) -> None:
    crashing = submit(
        pool_sessions, pool, owner, [python_task("crash", "crash")], one_step("crash")
    )

    run = finished(pool_sessions, crashing)

    assert (run.state, run.error) == ("failed", "step 'only' failed: worker lost")
    healthy = submit(pool_sessions, pool, owner, [python_task("noop", "noop")], one_step("noop"))
    assert finished(pool_sessions, healthy).state == "succeeded"
    assert len(pool.worker_ids) == 2


def test_cancelling_a_run_stops_its_running_command_and_frees_the_worker(
    pool: LocalPool,
    pool_sessions: sessionmaker[Session],
    pool_settings: Settings,
    owner: User,
    tmp_path: Path,
) -> None:
    script = tmp_path / "sleepy.sh"
    script.write_text("echo $$ > pid.txt\nexec sleep 30\n", encoding="utf-8")
    task = {"name": "sleepy", "kind": "command", "command": ["bash", str(script)]}
    run_id = submit(pool_sessions, pool, owner, [task], one_step("sleepy"))
    pid_file = pool_settings.data_dir / "work" / run_id / "only" / "1" / "pid.txt"
    pid = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip(), "the command"))

    with pool_sessions() as db:
        outcome = apply(db, run_id, machine.cancel, now=utcnow())
        db.commit()
    pool.deliver(run_id, outcome.effects)

    assert finished(pool_sessions, run_id).state == "cancelled"
    wait_for(lambda: not _alive(pid), "the command to be killed", deadline=5)
    wait_for(lambda: len(pool.worker_ids) == 2 and not pool.busy, "a replaced, idle pool", 10)


def test_closing_the_pool_marks_its_workers_down(
    pool_settings: Settings, pool_sessions: sessionmaker[Session]
) -> None:
    executor, _ = open_executor(pool_settings, pool_sessions, MemoryBus())
    assert isinstance(executor, LocalPool)
    ids = executor.worker_ids
    with pool_sessions() as db:
        assert {w.state for w in db.scalars(select(Worker).where(Worker.id.in_(ids)))} == {UP}

    executor.close()

    with pool_sessions() as db:
        assert {w.state for w in db.scalars(select(Worker).where(Worker.id.in_(ids)))} == {DOWN}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of an exited parent may linger as a zombie until reaped by init.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"
