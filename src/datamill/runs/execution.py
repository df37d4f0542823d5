"""One step attempt, carried out by a worker: started, run in a fresh working directory, reported.

Independent of transport: a local pool or a Celery task calls :func:`execute_attempt` with the
``(run, step, attempt)`` of a ``Dispatch`` and carries out the effects of the outcome it returns.

- ``started`` is applied and committed first; when it is not applied (a duplicated or late
  delivery) nothing runs and the result is None.
- The step's ``with`` is resolved against the run's inputs and parameters and the outputs of
  finished steps, then split by the pinned task into inputs and parameters.
- A ``command`` task runs as an argv (never a shell) in the working directory, with a minimal
  environment and the task's timeout; its stdout and stderr go to ``log.txt``.
- A ``python`` task is imported (``package.module:function``) and called in this process with
  its parameters and inputs as keyword arguments.

File values are stored as paths relative to the data directory, both in a run's inputs and in
the outputs a step reports.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import PipelineVersion, Run, RunStep
from datamill.pipelines.references import UnresolvedReference, interpolated, resolve
from datamill.pipelines.store import pipeline_spec
from datamill.pipelines.tasks import TaskSpec, render_argv, task_from_document, validate_task_params
from datamill.problems import NotFound
from datamill.runs import machine
from datamill.runs.effects import Outcome
from datamill.runs.orchestrator import apply
from datamill.runs.workdir import (
    INPUTS_DIR,
    LOG_FILE,
    make_workdir,
    stage_file,
    stored_path,
    workdir_path,
)

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
REASON_LINES = 10
"""How many of the last lines of stderr make the reason of a failed command."""
REASON_BYTES = 4096
"""How much of the end of stderr those lines are looked for in."""
STDERR_FILE = ".stderr"

_running_group: int | None = None
"""The process group of the command this process runs now, for :func:`kill_running_command`."""

Status = Literal["succeeded", "failed", "timed_out"]


class StepError(Exception):
    """Why an attempt failed before or after its program ran: the reason reported."""


@dataclass(frozen=True)
class Job:
    """What one attempt runs: the pinned task and the step's resolved inputs and parameters."""

    task: TaskSpec
    inputs: dict[str, Any]
    params: dict[str, Any]


@dataclass(frozen=True)
class Result:
    """How an attempt ended: outputs on success, a reason otherwise."""

    status: Status
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0
    """How long a timed-out attempt ran."""


def execute_attempt(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_id: str,
    step: str,
    attempt: int,
    worker_id: str,
    now: Callable[[], datetime],
    on_commit: Callable[[Outcome], None] | None = None,
) -> Outcome | None:
    """Run attempt ``attempt`` of ``step`` and report how it ended.

    ``on_commit`` is called with each applied outcome right after its commit (``started``,
    then the final transition), for the caller to carry out its effects: the events of the
    step starting go out before the step ends. Returns the outcome of the final transition, or
    None when ``started`` was not applied and nothing ran. The final transition may itself be
    ignored (the attempt was cancelled or declared lost meanwhile).
    """
    with sessions() as db:
        began = apply(db, run_id, machine.started, step, attempt, worker_id, now=now())
        db.commit()
        if not began.applied:
            return None
        if on_commit is not None:
            on_commit(began)
        try:
            job: Job | StepError = prepare_job(db, run_id, step)
        except StepError as problem:
            job = problem
    if isinstance(job, StepError):
        result = Result("failed", reason=str(job))
    else:
        workdir = workdir_path(settings.data_dir, run_id, step, attempt)
        result = run_job(job, settings.data_dir, workdir)
    outcome = report(sessions, run_id, step, attempt, result, now)
    if on_commit is not None and outcome.applied:
        on_commit(outcome)
    return outcome


def prepare_job(db: Session, run_id: str, step: str) -> Job:
    """The pinned task of ``step`` with its ``with`` resolved and its parameters validated.

    Raises :class:`StepError` when a reference has no value or a parameter is invalid.
    """
    run = db.get(Run, run_id)
    version = db.get(PipelineVersion, run.pipeline_version_id) if run else None
    if run is None or version is None:
        raise NotFound(f"There is no run {run_id!r}.")
    rows = {row.name: row for row in db.scalars(select(RunStep).where(RunStep.run_id == run_id))}
    finished = {name: row.outputs for name, row in rows.items() if row.state == "succeeded"}
    task = task_from_document(rows[step].task)
    try:
        values = resolve(
            pipeline_spec(version).steps[step].with_,
            inputs=run.inputs,
            params=run.params,
            steps=finished,
        )
    except UnresolvedReference as missing:
        raise StepError(f"{'.'.join(map(str, missing.loc))}: {missing}") from None
    inputs = {name: value for name, value in values.items() if name in task.inputs}
    given = {name: value for name, value in values.items() if name not in task.inputs}
    params, errors = validate_task_params(task, given)
    if errors:
        raise StepError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
    return Job(task, inputs, params)


def run_job(job: Job, data_dir: Path, workdir: Path) -> Result:
    """Carry out ``job`` in ``workdir``, made afresh with its ``inputs/`` and ``outputs/``."""
    try:
        make_workdir(workdir)
        staged = stage_inputs(job.task, job.inputs, data_dir, workdir)
        if job.task.kind == "command":
            return run_command(job, staged, data_dir, workdir)
        if job.task.kind == "python":
            return call_function(job, staged, data_dir, workdir)
        raise StepError(f"{job.task.kind} tasks are not run by this executor")
    except (StepError, OSError, ValueError) as problem:
        return Result("failed", reason=str(problem))


def stage_inputs(
    task: TaskSpec, inputs: Mapping[str, Any], data_dir: Path, workdir: Path
) -> dict[str, Any]:
    """Each input as the task sees it: files staged into the working directory (their path
    relative to it), values as they are."""
    staged: dict[str, Any] = {}
    for name, port in task.inputs.items():
        if name not in inputs:
            raise StepError(f"input '{name}' has no value")
        value = inputs[name]
        if port.kind == "value":
            staged[name] = value
        elif port.kind == "file":
            if not isinstance(value, str):
                raise StepError(f"input '{name}' is a file: expected a stored path")
            relative = port.path or f"{INPUTS_DIR}/{name}{Path(value).suffix}"
            stage_file(data_dir, value, workdir / relative)
            staged[name] = relative
        else:
            raise StepError(f"input '{name}': {port.kind} inputs are not supported yet")
    return staged


def run_command(job: Job, staged: Mapping[str, Any], data_dir: Path, workdir: Path) -> Result:
    """Run a command task's argv in ``workdir``; its stdout and stderr become ``log.txt``.

    Both streams go to files, not pipes, so a chatty program cannot fill the worker's memory.
    """
    task = job.task
    paths = {name: interpolated(value) for name, value in staged.items()}
    argv = render_argv(task, job.params, paths)
    env = {"PATH": SAFE_PATH, "HOME": str(workdir), "LANG": "C.UTF-8", **task.env}
    log = workdir / LOG_FILE
    with log.open("wb") as out, (workdir / STDERR_FILE).open("w+b") as err:
        status = run_process(argv, workdir, env, task.timeout, out, err)
        err.seek(0)
        shutil.copyfileobj(err, out)
        size = err.tell()
        err.seek(max(0, size - REASON_BYTES))
        tail = err.read()
    if size > REASON_BYTES:
        tail = tail.partition(b"\n")[2]  # the first line read is only the end of one
    (workdir / STDERR_FILE).unlink()
    if status is None:
        return Result("timed_out", reason=f"no result after {task.timeout} s", seconds=task.timeout)
    if status != 0:
        return Result("failed", reason=exit_reason(status, tail))
    return Result("succeeded", collect_outputs(task, data_dir, workdir))


def run_process(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, out: IO[bytes], err: IO[bytes]
) -> int | None:
    """The exit status of ``argv``, or None when it ran past ``timeout`` seconds.

    The program runs in a session of its own; whatever it started is killed with it when it
    ends or times out, so nothing of an attempt outlives it.
    """
    try:
        process = subprocess.Popen(  # noqa: S603 - an argv from an admin's task, no shell
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    except OSError as problem:
        raise StepError(f"cannot start {argv[0]!r}: {problem.strerror}") from None
    global _running_group
    _running_group = process.pid
    try:
        status: int | None = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = None
    finally:
        kill_running_command()
    process.wait()
    return status


def kill_running_command() -> None:
    """Kill the command this process runs, with everything it started; a no-op when none runs.

    Called when an attempt ends, and by a worker told to stop (a cancelled step): the command
    runs in a session of its own, so stopping the worker alone would leave it running.
    """
    global _running_group
    group, _running_group = _running_group, None
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def exit_reason(status: int, stderr: bytes) -> str:
    """Why a command failed: its exit status (or signal) and the last lines of its stderr."""
    head = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    lines = stderr.decode(errors="replace").rstrip().splitlines()[-REASON_LINES:]
    return "\n".join([head, *lines])


def collect_outputs(task: TaskSpec, data_dir: Path, workdir: Path) -> dict[str, Any]:
    """A command task's outputs, read from their declared paths.

    A file output is reported by its stored path; a value output's file is read as JSON, or as
    stripped text when it is not JSON.
    """
    outputs: dict[str, Any] = {}
    for name, port in task.outputs.items():
        path = workdir / (port.path or "")
        if not port.path or not path.is_file():
            raise StepError(f"output '{name}' is missing: {port.path} was not written")
        if port.kind == "file":
            outputs[name] = stored_path(data_dir, workdir, path)
        elif port.kind == "value":
            outputs[name] = read_value(path)
        else:
            raise StepError(f"output '{name}': {port.kind} outputs are not supported yet")
    return outputs


def read_value(path: Path) -> Any:
    text = path.read_text(encoding="utf-8").strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def call_function(job: Job, staged: Mapping[str, Any], data_dir: Path, workdir: Path) -> Result:
    """Call a python task's function with its parameters and inputs as keyword arguments.

    File inputs are passed as absolute paths. A function with a ``workdir`` parameter gets the
    working directory, where it writes its file outputs. An exception is a failure; its
    traceback goes to ``log.txt``.
    """
    task = job.task
    function = load_function(task.function or "")
    files = {name for name, port in task.inputs.items() if port.kind == "file"}
    arguments: dict[str, Any] = {**job.params}
    arguments.update(
        {name: workdir / value if name in files else value for name, value in staged.items()}
    )
    if "workdir" in _parameter_names(function):
        arguments["workdir"] = workdir
    try:
        returned = function(**arguments)
    except Exception as problem:  # any failure of task code fails the attempt
        (workdir / LOG_FILE).write_text(traceback.format_exc(), encoding="utf-8")
        return Result("failed", reason=f"{type(problem).__name__}: {problem}")
    return Result("succeeded", function_outputs(task, returned, data_dir, workdir))


def _parameter_names(function: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # some built-in functions have no signature
        return set()


def load_function(reference: str) -> Callable[..., Any]:
    """The function named ``package.module:function``."""
    module_name, _, name = reference.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as problem:
        raise StepError(f"cannot load {reference}: {problem}") from None
    if not callable(function):
        raise StepError(f"{reference} is not a function")
    return function  # type: ignore[no-any-return]


def function_outputs(
    task: TaskSpec, returned: object, data_dir: Path, workdir: Path
) -> dict[str, Any]:
    """The declared outputs from a function's returned dict: files as stored paths, values as
    JSON values."""
    if not isinstance(returned, Mapping):
        raise StepError(f"{task.function} returned {type(returned).__name__}, not a dict")
    outputs: dict[str, Any] = {}
    for name, port in task.outputs.items():
        if name not in returned:
            raise StepError(f"output '{name}' is missing from what {task.function} returned")
        value = returned[name]
        if port.kind == "file":
            if not isinstance(value, str | os.PathLike):
                raise StepError(f"output '{name}' is a file: expected a path")
            outputs[name] = stored_path(data_dir, workdir, value)
        else:
            try:
                outputs[name] = json.loads(json.dumps(value))
            except (TypeError, ValueError):
                raise StepError(f"output '{name}' is not a JSON value") from None
    return outputs


def report(
    sessions: sessionmaker[Session],
    run_id: str,
    step: str,
    attempt: int,
    result: Result,
    now: Callable[[], datetime],
) -> Outcome:
    """Apply the transition that ``result`` calls for, in a transaction of its own."""
    with sessions() as db:
        if result.status == "succeeded":
            args: tuple[Any, ...] = (machine.succeeded, step, attempt, result.outputs)
        elif result.status == "failed":
            args = (machine.failed, step, attempt, result.reason)
        else:
            args = (machine.timed_out, step, attempt, result.seconds)
        outcome = apply(db, run_id, *args, now=now())
        db.commit()
    return outcome
