"""Step logs, on every dialect: what a command writes and what a python function prints go to
``log.txt``, kept to ``step_log_bytes`` (here the smallest allowed, 1 KiB) and ending with a
notice when they were cut; a command whose log grows past four times the cap is stopped."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import User
from datamill.runs.steplog import cut_notice
from tests.fixtures.db import make_settings
from tests.integration.runs.attempts import start_run, step_rows, workdir

CAP = 1024
NOTICE = cut_notice(CAP)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url, step_log_bytes=CAP)


def command(name: str, script: str) -> dict[str, Any]:
    return {"name": name, "kind": "command", "command": ["bash", "-c", script]}


CHATTER = {
    "name": "chatter",
    "kind": "python",
    "function": "tests.integration.runs.chatty:chatter",
    "params": {
        "type": "object",
        "properties": {"lines": {"type": "integer"}, "fail": {"type": "boolean"}},
    },
}


def run_one(
    db: Session, owner: User, execute: Callable[..., Any], task: dict[str, Any], **with_: Any
) -> str:
    step = json.dumps({"task": task["name"], "with": with_})
    pipeline = f"name: single\nsteps:\n  only: {step}\n"
    run_id, [dispatch] = start_run(db, owner, [task], pipeline)
    execute(run_id, dispatch.step, dispatch.attempt)
    return run_id


def read_log(settings: Settings, run_id: str) -> bytes:
    return (workdir(settings, run_id, "only") / "log.txt").read_bytes()


def test_a_command_writing_past_the_cap_leaves_the_head_and_a_notice(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = command("loud", "for i in $(seq 400); do echo line $i; done")
    run_id = run_one(db, owner, execute, task)

    log = read_log(settings, run_id)
    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert log.startswith(b"line 1\nline 2\n")
    assert log.endswith(b"\n" + NOTICE) and len(log) <= CAP + 1 + len(NOTICE)
    assert log[:CAP] == b"".join(f"line {i}\n".encode() for i in range(1, 401))[:CAP]


def test_stderr_past_the_cap_is_cut_but_still_gives_the_reason(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = command("grumbles", "echo start; for i in $(seq 400); do echo oops $i >&2; done; exit 2")
    run_id = run_one(db, owner, execute, task)

    log = read_log(settings, run_id)
    assert log.startswith(b"start\noops 1\n") and log.endswith(NOTICE)
    assert len(log) <= CAP + 1 + len(NOTICE)
    error = step_rows(db, run_id)["only"].error
    assert error is not None and error.splitlines()[-1] == "oops 400"


def test_a_log_that_fits_is_kept_whole_without_a_notice(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id = run_one(db, owner, execute, command("quiet", "echo out; echo err >&2"))

    assert read_log(settings, run_id) == b"out\nerr\n"


def test_what_a_python_task_prints_is_its_log(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id = run_one(db, owner, execute, CHATTER, lines=3)

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert read_log(settings, run_id) == b"line 1\nline 2\nline 3\n"


def test_a_failing_python_task_logs_its_prints_then_its_traceback(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id = run_one(db, owner, execute, CHATTER, lines=2, fail=True)

    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == ("failed", "RuntimeError: gave up after 2 lines")
    log = read_log(settings, run_id).decode()
    assert log.startswith("line 1\nline 2\nTraceback (most recent call last):\n")
    assert log.endswith("RuntimeError: gave up after 2 lines\n")


def test_a_python_task_printing_past_the_cap_is_cut_with_a_notice(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id = run_one(db, owner, execute, CHATTER, lines=1000, fail=True)

    log = read_log(settings, run_id)
    assert log.startswith(b"line 1\nline 2\n")
    assert log.endswith(NOTICE) and len(log) <= CAP + 1 + len(NOTICE)
    assert step_rows(db, run_id)["only"].error == "RuntimeError: gave up after 1000 lines"


def test_a_command_flooding_its_log_is_stopped_while_it_runs(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {"name": "flood", "kind": "command", "command": ["yes"], "timeout": 60}
    began = time.monotonic()
    run_id = run_one(db, owner, execute, task)

    assert time.monotonic() - began < 10
    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == (
        "failed",
        f"log larger than {4 * CAP} bytes: the command was stopped",
    )
    log = read_log(settings, run_id)
    assert log.startswith(b"y\ny\n") and log.endswith(NOTICE) and len(log) <= CAP + 1 + len(NOTICE)
    assert not (workdir(settings, run_id, "only") / ".stderr").exists()


def test_a_command_whose_log_stays_under_the_stop_limit_runs_to_its_end(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = command("steady", f"head -c {3 * CAP} /dev/zero; sleep 0.3; echo done >&2")
    run_id = run_one(db, owner, execute, task)

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert read_log(settings, run_id).endswith(NOTICE)
