"""Progress of a running step, on every dialect: a python task's ``progress`` calls and a
command's ``::progress`` lines reach ``on_progress`` while the step runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import User
from tests.integration.runs.attempts import one_step, start_run, step_rows, workdir

SCRIPT = """
echo starting
echo '::progress 0.25 reading'
sleep 0.3
echo 'not ::progress 0.3'
echo '::progress 2 done'
echo done
"""


def test_a_command_reports_progress_with_lines_on_stdout(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {"name": "reports", "kind": "command", "command": ["bash", "-c", SCRIPT]}
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))
    reports: list[tuple[float, str | None]] = []

    execute(run_id, dispatch.step, 1, on_progress=lambda f, m: reports.append((f, m)))

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert reports == [(0.25, "reading"), (1.0, "done")]
    log = (workdir(settings, run_id, "only") / "log.txt").read_text()
    assert log.splitlines()[1] == "::progress 0.25 reading"  # the log keeps them


def test_a_python_task_reports_progress_through_its_parameter(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "sleepy",
        "kind": "python",
        "function": "tests.integration.runs.chatty:count_down",
        "params": {"type": "object", "properties": {"steps": {"type": "integer"}}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))
    reports: list[tuple[float, str | None]] = []

    execute(run_id, dispatch.step, 1, on_progress=lambda f, m: reports.append((f, m)))

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert reports == [(0.0, "3 to go"), (0.5, "1 to go"), (1.0, None)]
