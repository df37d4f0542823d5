"""Step attempts carried out by a worker, on every dialect: a Python function, a bash script and a
C program in one run; failures, timeouts, hostile parameters and duplicated deliveries."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import RunStep, User
from datamill.runs.effects import Terminate
from tests.fixtures.workers import byte_count
from tests.integration.runs.attempts import (
    EXAMPLES,
    one_step,
    run_state,
    start_run,
    step_rows,
    store_input,
    workdir,
)

NORMALISE = """
name: normalise
kind: python
function: text_tools:normalise
inputs:
  text: {kind: file}
outputs:
  text: {kind: file}
  lines: {kind: value}
params:
  type: object
  properties:
    case: {type: string, enum: [upper, lower], default: upper}
"""

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
params:
  case: {type: string}
steps:
  normalise: {task: normalise, with: {text: "${inputs.text}", case: "${params.case}"}}
  count: {task: count-lines, with: {text: "${steps.normalise.outputs.text}"}}
"""

MEASURE_STEP = """
  measure: {task: byte-count, with: {text: "${steps.normalise.outputs.text}", label: size}}
"""


@pytest.mark.usefixtures("examples_importable")
def test_a_python_a_bash_and_a_c_step_run_to_success(
    db: Session,
    owner: User,
    settings: Settings,
    tmp_path: Path,
    execute: Callable[..., Any],
) -> None:
    tasks: list[str | dict[str, Any]] = [NORMALISE, COUNT_LINES, byte_count(tmp_path)]
    pipeline = TEXT_STATS + MEASURE_STEP
    stored = store_input(settings, "  alpha \n\nbeta\n gamma\n")
    run_id, pending = start_run(db, owner, tasks, pipeline, {"case": "upper"}, {"text": stored})

    order = []
    while pending:
        dispatch = pending.pop(0)
        outcome = execute(run_id, dispatch.step, dispatch.attempt)
        assert outcome is not None and outcome.applied
        order.append(dispatch.step)
        pending.extend(outcome.dispatches)

    assert run_state(db, run_id) == "succeeded"
    rows = step_rows(db, run_id)
    assert order[0] == "normalise" and set(order) == set(rows)
    normalised = rows["normalise"].outputs
    assert normalised["lines"] == 3
    assert normalised["text"] == f"work/{run_id}/normalise/1/outputs/normalised.txt"
    assert (settings.data_dir / normalised["text"]).read_text() == "ALPHA\nBETA\nGAMMA\n"
    assert rows["count"].outputs == {"count": 3}
    log = (workdir(settings, run_id, "count") / "log.txt").read_text()
    assert log == "counted the lines of inputs/text.txt\n"
    assert rows["measure"].outputs == {"size": {"label": "size", "bytes": 17}}


def test_a_failing_command_fails_with_the_end_of_its_stderr(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "boom",
        "kind": "command",
        "command": ["bash", "-c", "echo out; echo boom >&2; exit 3"],
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    outcome = execute(run_id, dispatch.step, dispatch.attempt)

    assert outcome is not None and outcome.applied
    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == ("failed", "exit status 3\nboom")
    assert run_state(db, run_id) == "failed"
    assert (workdir(settings, run_id, "only") / "log.txt").read_text() == "out\nboom\n"


def test_an_output_not_written_fails_the_step_naming_it(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "lazy",
        "kind": "command",
        "command": ["true"],
        "outputs": {"report": {"kind": "file", "path": "outputs/report.csv"}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert row.state == "failed"
    assert row.error is not None and "'report'" in row.error and "outputs/report.csv" in row.error


def test_a_command_past_its_timeout_is_killed_and_timed_out(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "slow",
        "kind": "command",
        "command": ["bash", "-c", "sleep 30; echo done"],
        "timeout": 1,
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    began = time.monotonic()
    outcome = execute(run_id, dispatch.step, dispatch.attempt)

    assert time.monotonic() - began < 10
    assert outcome is not None
    assert Terminate("only", 1, outcome.run.steps["only"].worker) in outcome.effects
    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == ("failed", "timed out after 1 s")


@pytest.mark.parametrize("value", ["; rm -rf / #", "$(id)", "a b 'c' \"d\" `id` > x"])
def test_a_hostile_parameter_is_one_literal_argument(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any], value: str
) -> None:
    task = {
        "name": "echo-args",
        "kind": "command",
        "command": ["printf", "[%s]\\n", "{params.value}"],
        "params": {"type": "object", "properties": {"value": {"type": "string"}}},
    }
    pipeline = one_step(task, {"value": "${params.value}"})
    run_id, [dispatch] = start_run(db, owner, [task], pipeline, {"value": value})

    execute(run_id, dispatch.step, dispatch.attempt)

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert (workdir(settings, run_id, "only") / "log.txt").read_text() == f"[{value}]\n"


def test_a_second_delivery_of_the_same_attempt_runs_nothing(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "once",
        "kind": "command",
        "command": ["bash", "-c", "echo ran >> ../../runs.txt"],
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    assert execute(run_id, dispatch.step, dispatch.attempt) is not None
    assert execute(run_id, dispatch.step, dispatch.attempt) is None

    assert (settings.data_dir / "work" / run_id / "runs.txt").read_text() == "ran\n"
    assert step_rows(db, run_id)["only"].state == "succeeded"


@pytest.mark.usefixtures("examples_importable")
def test_a_missing_input_file_fails_the_step_naming_it(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    missing = "uploads/missing.txt"
    pipeline = TEXT_STATS.replace("  count:", "  #count:")
    run_id, [dispatch] = start_run(
        db, owner, [NORMALISE, COUNT_LINES], pipeline, {"case": "upper"}, {"text": missing}
    )

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["normalise"]
    assert row.state == "failed"
    assert row.error is not None and "uploads/missing.txt" in row.error


def test_a_command_sees_only_a_minimal_environment_and_its_task_env(
    db: Session,
    owner: User,
    settings: Settings,
    execute: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATAMILL_SECRET_KEY", "must-not-leak")
    task = {"name": "show-env", "kind": "command", "command": ["env"], "env": {"THREADS": 4}}
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    lines = (workdir(settings, run_id, "only") / "log.txt").read_text().splitlines()
    names = sorted(line.split("=", 1)[0] for line in lines)
    assert names == ["HOME", "LANG", "PATH", "THREADS"]
    assert f"HOME={workdir(settings, run_id, 'only')}" in lines and "THREADS=4" in lines


def test_a_python_function_that_raises_fails_with_its_exception_and_logs_it(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "parse",
        "kind": "python",
        "function": "json:loads",
        "params": {"type": "object", "properties": {"s": {"type": "string"}}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task, {"s": "not json"}))

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert row.state == "failed"
    assert row.error is not None and row.error.startswith("JSONDecodeError: Expecting value")
    log = (workdir(settings, run_id, "only") / "log.txt").read_text()
    assert log.startswith("Traceback") and "JSONDecodeError" in log


def test_a_background_process_does_not_outlive_its_attempt(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    script = "(sleep 1; echo late > outputs/late.txt) & echo started"
    task = {"name": "leaky", "kind": "command", "command": ["bash", "-c", script]}
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)
    time.sleep(1.5)

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert not (workdir(settings, run_id, "only") / "outputs" / "late.txt").exists()


def test_an_invalid_parameter_fails_the_step_before_anything_runs(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "short",
        "kind": "command",
        "command": ["printf", "%s", "{params.value}"],
        "params": {"type": "object", "properties": {"value": {"type": "string", "maxLength": 3}}},
    }
    pipeline = one_step(task, {"value": "${params.value}"})
    run_id, [dispatch] = start_run(db, owner, [task], pipeline, {"value": "too long"})

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert row.state == "failed"
    assert row.error is not None and row.error.startswith("params.value: ")
    assert not workdir(settings, run_id, "only").exists()


def test_a_pinned_task_that_no_longer_parses_fails_its_attempt_instead_of_looping(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {"name": "echo", "kind": "command", "command": ["echo", "hi"]}
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))
    db.execute(
        update(RunStep).where(RunStep.run_id == run_id).values(task={"kind": "no-such-kind"})
    )
    db.commit()

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert (row.state, row.attempt) == ("failed", 1)
    assert row.error is not None and row.error.startswith("the step could not be prepared: ")
    assert run_state(db, run_id) == "failed"


def test_the_reason_of_a_chatty_failure_is_the_last_lines_of_stderr(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    script = "for i in $(seq 5000); do echo line $i >&2; done; exit 1"
    task = {"name": "chatty", "kind": "command", "command": ["bash", "-c", script]}
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    error = step_rows(db, run_id)["only"].error
    assert error is not None
    assert error.splitlines() == ["exit status 1"] + [f"line {i}" for i in range(4991, 5001)]
