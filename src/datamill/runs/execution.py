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
  its parameters and inputs as keyword arguments; what it prints goes to ``log.txt``.
- ``log.txt`` keeps at most ``settings.step_log_bytes`` and says so when it was cut; a command
  whose log grows far past that while it runs is stopped.
- Inputs are copies, never links to the stored files; every output must resolve to a regular
  file inside the working directory.
- The success of a step records its file and table outputs as artifacts, in the same
  transaction.

File and table values are stored as paths relative to the data directory, both in a run's
inputs and in the outputs a step reports; a table is a Parquet file. pandas, pyarrow and DuckDB
are imported only by an attempt with a table port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import json
import logging
import os
import signal
import subprocess
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, cast

from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.pipelines.references import UnresolvedReference, interpolated, resolve
from datamill.pipelines.store import pinned_task
from datamill.pipelines.tasks import TaskSpec, render_argv, validate_task_params
from datamill.runs import machine
from datamill.runs.effects import Outcome
from datamill.runs.orchestrator import LoadedRun, apply, apply_and_read, run_spec
from datamill.runs.produced import Produced, produced_files, record_artifacts
from datamill.runs.progress import LogFollower, OnProgress, Progress
from datamill.runs.steplog import CappedLog, append_capped, cut_log
from datamill.runs.workdir import (
    INPUTS_DIR,
    LOG_FILE,
    OUTPUTS_DIR,
    OutputPathError,
    make_workdir,
    output_file,
    stage_file,
    stored_path,
    workdir_path,
)
from datamill.storage.files import resolve_inside

if TYPE_CHECKING:
    from datamill.runs.tables import OutputReader

log = logging.getLogger("datamill.runs")

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
REASON_LINES = 10
"""How many of the last lines of stderr make the reason of a failed command."""
REASON_BYTES = 4096
"""How much of the end of stderr those lines are looked for in."""
STDERR_FILE = ".stderr"

LOG_STOP_FACTOR = 4
"""A command whose stdout and stderr together grow past this many times ``step_log_bytes``
while it runs is stopped: the log keeps only ``step_log_bytes`` anyway."""
LOG_POLL_SECONDS = 0.5
"""The longest interval between two looks at the size of a running command's log."""

_running_group: int | None = None
"""The process group of the command this process runs now, for :func:`kill_running_command`."""
_group_listener: Callable[[int | None], None] | None = None
"""Told of every change of :data:`_running_group` (see :func:`set_group_listener`)."""

Status = Literal["succeeded", "failed", "timed_out"]


class StepError(Exception):
    """Why an attempt failed before or after its program ran: the reason reported."""


class LogOverflow(StepError):
    """A command was stopped because its log grew far past the cap."""


@dataclass(frozen=True)
class Job:
    """What one attempt runs: the pinned task and the step's resolved inputs and parameters."""

    task: TaskSpec
    inputs: dict[str, Any]
    params: dict[str, Any]
    dataset_id: str | None = None
    """For an operation in a run of operations: the dataset its result becomes a revision of."""


@dataclass(frozen=True)
class MadeRevision:
    """The file an operation wrote as a dataset's next revision; its row is inserted when the
    success is recorded (and the file removed if it is not)."""

    id: str
    dataset_id: str
    path: str
    """Relative to the revisions directory."""
    file: str
    """Where it is on this machine: removed if the success is not recorded."""
    row_count: int
    size_bytes: int
    columns: list[dict[str, str]]
    changes: dict[str, Any]


@dataclass(frozen=True)
class Result:
    """How an attempt ended: outputs on success, a reason otherwise."""

    status: Status
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0
    """How long a timed-out attempt ran."""
    produced: tuple[Produced, ...] = ()
    """The file and table outputs of a success: its artifacts."""
    revision: MadeRevision | None = None
    """The revision an operation on a dataset made."""


def execute_attempt(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_id: str,
    step: str,
    attempt: int,
    worker_id: str,
    now: Callable[[], datetime],
    on_commit: Callable[[Outcome], None] | None = None,
    on_progress: OnProgress | None = None,
) -> Outcome | None:
    """Run attempt ``attempt`` of ``step`` and report how it ended.

    ``on_commit`` is called with each applied outcome right after its commit (``started``,
    then the final transition), for the caller to carry out its effects: the events of the
    step starting go out before the step ends. Returns the outcome of the final transition, or
    None when ``started`` was not applied and nothing ran. The final transition may itself be
    ignored (the attempt was cancelled or declared lost meanwhile).

    ``on_progress(fraction, message)`` receives, rate limited, what a python task reports
    through its ``progress`` parameter (from the thread that runs it) or a command prints as
    ``::progress`` lines (from a thread that follows its stdout).
    """
    with sessions() as db:
        began, prepared = claim(db, run_id, step, attempt, worker_id, now())
        db.commit()
        if prepared is None:
            return None
        if on_commit is not None:
            on_commit(began)
    if isinstance(prepared, StepError):
        result = Result("failed", reason=str(prepared))
    else:
        workdir = workdir_path(settings.data_dir, run_id, step, attempt)
        result = run_job(prepared, settings, workdir, on_progress)
    outcome = report(sessions, run_id, step, attempt, result, now)
    if on_commit is not None and outcome.applied:
        on_commit(outcome)
    return outcome


def claim(
    db: Session, run_id: str, step: str, attempt: int, worker_id: str, now: datetime
) -> tuple[Outcome, Job | StepError | None]:
    """Apply ``started`` for ``worker_id`` and prepare the job from the same read; the caller
    commits. The job is None when ``started`` was not applied (nothing is to run), a
    :class:`StepError` when the step cannot be prepared (the attempt is to be reported failed).
    """
    began, loaded = apply_and_read(db, run_id, machine.started, step, attempt, worker_id, now=now)
    if not began.applied:
        return began, None
    try:
        return began, prepare_job(db, loaded, step)
    except StepError as problem:
        return began, problem
    except Exception as problem:  # a pinned spec that no longer parses, say: the attempt fails
        log.exception("could not prepare %s/%s/%s", run_id, step, attempt)
        return began, StepError(f"the step could not be prepared: {problem}")


def prepare_job(db: Session, run: LoadedRun, step: str) -> Job:
    """The pinned task of ``step`` with its ``with`` resolved and its parameters validated.

    Raises :class:`StepError` when a reference has no value or a parameter is invalid.
    """
    spec = run_spec(db, run.id, run.pipeline_version_id, run.spec)
    finished = {
        name: dict(record.outputs)
        for name, record in run.record.steps.items()
        if record.state == "succeeded"
    }
    task = pinned_task(run.steps[step].task)
    try:
        values = resolve(
            spec.steps[step].with_, inputs=run.inputs, params=run.params, steps=finished
        )
    except UnresolvedReference as missing:
        raise StepError(f"{'.'.join(map(str, missing.loc))}: {missing}") from None
    inputs = {name: value for name, value in values.items() if name in task.inputs}
    given = {name: value for name, value in values.items() if name not in task.inputs}
    if task.kind == "operation":  # checked by the operation's own model, against the table
        return Job(task, inputs, given, run.dataset_id)
    params, errors = validate_task_params(task, given)
    if errors:
        raise StepError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
    return Job(task, inputs, params)


def run_job(
    job: Job,
    settings: Settings,
    workdir: Path,
    on_progress: OnProgress | None = None,
    *,
    new_session: bool = True,
) -> Result:
    """Carry out ``job`` in ``workdir``, made afresh with its ``inputs/`` and ``outputs/``.

    ``new_session=False`` keeps a command in this process's group (see :func:`run_process`).
    """
    data_dir = settings.data_dir
    if job.task.kind == "operation":
        from datamill.operations.execute import run_operation

        return run_operation(job, settings, workdir, on_progress)
    try:
        make_workdir(workdir)
        staged = stage_inputs(job.task, job.inputs, data_dir, workdir)
        if job.task.kind == "command":
            result = run_command(job, staged, settings, workdir, on_progress, new_session)
        elif job.task.kind == "python":
            result = call_function(job, staged, settings, workdir, on_progress)
        else:
            raise StepError(f"{job.task.kind} tasks are not run by this executor")
        if result.status != "succeeded":
            return result
        produced = produced_files(job.task, result.outputs, data_dir)
        return dataclasses.replace(result, produced=tuple(produced))
    except (StepError, OSError, ValueError) as problem:
        return Result("failed", reason=str(problem))


def stage_inputs(
    task: TaskSpec, inputs: Mapping[str, Any], data_dir: Path, workdir: Path
) -> dict[str, Any]:
    """Each input as the task sees it: files staged into the working directory (their path
    relative to it), values as they are.

    A table is staged for a command as CSV (as Parquet when its ``path`` says ``.parquet``); a
    python task reads it from where it is stored, given here as an absolute path.
    """
    staged: dict[str, Any] = {}
    for name, port in task.inputs.items():
        if name not in inputs:
            raise StepError(f"input '{name}' has no value")
        value = inputs[name]
        if port.kind == "value":
            staged[name] = value
            continue
        if not isinstance(value, str):
            raise StepError(f"input '{name}' is a {port.kind}: expected a stored path")
        if port.kind == "file":
            relative = port.path or f"{INPUTS_DIR}/{name}{Path(value).suffix}"
            stage_file(data_dir, value, workdir / relative)
            staged[name] = relative
        elif task.kind == "python":
            staged[name] = stored_table(data_dir, value)
        else:
            relative = port.path or f"{INPUTS_DIR}/{name}.csv"
            staged[name] = stage_table(name, data_dir, value, relative, workdir)
    return staged


def stored_table(data_dir: Path, stored: str) -> Path:
    source = resolve_inside(data_dir, stored)
    if not source.is_file():
        raise FileNotFoundError(f"the table {stored!r} does not exist")
    return source


def stage_table(name: str, data_dir: Path, stored: str, relative: str, workdir: Path) -> str:
    """Put the table stored at ``stored`` at ``relative`` in ``workdir``: Parquet as it is
    (a copy), anything else as CSV."""
    from datamill.runs import tables

    target = workdir / relative
    if target.suffix.lower() in tables.PARQUET_SUFFIXES:
        stage_file(data_dir, stored, target)
        return relative
    try:
        tables.stage_as_csv(stored_table(data_dir, stored), target)
    except tables.TableError as problem:
        raise StepError(f"input '{name}' ({stored}): {problem}") from None
    return relative


def run_command(
    job: Job,
    staged: Mapping[str, Any],
    settings: Settings,
    workdir: Path,
    on_progress: OnProgress | None = None,
    new_session: bool = True,
) -> Result:
    """Run a command task's argv in ``workdir``; its stdout and stderr become ``log.txt``.

    Both streams go to files, not pipes, so a chatty program can neither fill the worker's
    memory nor block on a full pipe; the log is cut to ``settings.step_log_bytes`` when the
    program has ended, and a program whose streams grow past :data:`LOG_STOP_FACTOR` times that
    while it runs is stopped (it would fill the disk for the rest of its timeout). With
    ``on_progress``, stdout is followed while the program runs for ``::progress <fraction>
    [message]`` lines.
    """
    task = job.task
    paths = {name: interpolated(value) for name, value in staged.items()}
    argv = render_argv(task, job.params, paths)
    env = {"PATH": SAFE_PATH, "HOME": str(workdir), "LANG": "C.UTF-8", **task.env}
    log = workdir / LOG_FILE
    limit = settings.step_log_bytes
    with log.open("w+b") as out, (workdir / STDERR_FILE).open("w+b") as err:
        following = (
            LogFollower(log, Progress(on_progress))
            if on_progress is not None
            else contextlib.nullcontext()
        )
        stopped: LogOverflow | None = None
        with following:
            try:
                status = run_process(
                    argv,
                    workdir,
                    env,
                    task.timeout,
                    out,
                    err,
                    max_log_bytes=LOG_STOP_FACTOR * limit,
                    new_session=new_session,
                )
            except LogOverflow as overflow:
                status, stopped = None, overflow
        err.seek(0)
        dropped = append_capped(out, err, limit)
        if dropped or out.seek(0, os.SEEK_END) > limit:
            cut_log(out, limit)
        size = err.seek(0, os.SEEK_END)
        err.seek(max(0, size - REASON_BYTES))
        tail = err.read()
    if size > REASON_BYTES:
        tail = tail.partition(b"\n")[2]  # the first line read is only the end of one
    (workdir / STDERR_FILE).unlink()
    if stopped is not None:
        return Result("failed", reason=str(stopped))
    if status is None:
        return Result("timed_out", reason=f"no result after {task.timeout} s", seconds=task.timeout)
    if status != 0:
        return Result("failed", reason=exit_reason(status, tail))
    return Result("succeeded", collect_outputs(task, settings, workdir))


def run_process(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    out: IO[bytes],
    err: IO[bytes],
    *,
    max_log_bytes: int | None = None,
    new_session: bool = True,
) -> int | None:
    """The exit status of ``argv``, or None when it ran past ``timeout`` seconds.

    The program runs in a session of its own; whatever it started is killed with it when it
    ends or times out, so nothing of an attempt outlives it. With ``new_session=False`` it
    stays in this process's group instead, and only the program itself is killed: for a
    process that runs nothing else and whose parent kills the whole group when it is done
    (a validator's child, see :func:`datamill.runs.inputs.run_isolated`).

    With ``max_log_bytes``, the sizes of ``out`` and ``err`` are watched while the program runs
    (every :data:`LOG_POLL_SECONDS` at most); past that many bytes together, the program is
    killed and :class:`LogOverflow` raised.
    """
    try:
        process = subprocess.Popen(  # noqa: S603 - an argv from an admin's task, no shell
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=new_session,
        )
    except OSError as problem:
        raise StepError(f"cannot start {argv[0]!r}: {problem.strerror}") from None
    if new_session:
        _set_running_group(process.pid)
    watch = (
        LogWatch(process, out, err, max_log_bytes)
        if max_log_bytes is not None
        else contextlib.nullcontext()
    )
    try:
        with watch:
            status: int | None = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = None
    finally:
        if new_session:
            kill_running_command()
        else:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    process.wait()
    if isinstance(watch, LogWatch) and watch.overflowed:
        raise LogOverflow(f"log larger than {max_log_bytes} bytes: the command was stopped")
    return status


class LogWatch:
    """Watches the size of a running command's stdout and stderr files from a thread of its
    own, and kills the command when together they grow past ``limit`` bytes.

    The first looks come quickly (a program that floods its log does so from the start), then
    every :data:`LOG_POLL_SECONDS`: a quiet program costs almost nothing.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], out: IO[bytes], err: IO[bytes], limit: int
    ) -> None:
        self._process = process
        self._files = (out.fileno(), err.fileno())
        self._limit = limit
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="datamill-log-watch", daemon=True)
        self.overflowed = False

    def __enter__(self) -> LogWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        interval = 0.01
        while not self._done.wait(interval):
            if sum(os.fstat(fd).st_size for fd in self._files) > self._limit:
                self.overflowed = True
                with contextlib.suppress(ProcessLookupError):
                    self._process.kill()  # its wait returns; the group is killed after it
                return
            interval = min(interval * 2, LOG_POLL_SECONDS)


def _set_running_group(group: int | None) -> None:
    global _running_group
    _running_group = group
    if _group_listener is not None:
        _group_listener(group)


def running_group() -> int | None:
    """The process group of the command this process runs now (None when none runs)."""
    return _running_group


def set_group_listener(listener: Callable[[int | None], None] | None) -> None:
    """Have ``listener(group)`` called as a command starts in a group of its own, and
    ``listener(None)`` once that group is killed.

    For a parent that may kill this process (a pool child told to stop that lingers): the
    command runs in a session of its own and would outlive its worker, so the parent must
    kill its group too. The listener is called from the thread that runs the attempt, right
    after the command starts, and from :func:`kill_running_command`, which a signal handler may
    call: it must be quick and safe there (a write to a shared ``multiprocessing.RawValue``
    suits; a message on a pipe the attempt also writes to does not).
    """
    global _group_listener
    _group_listener = listener


def run_in_own_group(send: Connection, job: Job, settings: Settings, workdir: Path) -> None:
    """The child process of :func:`datamill.runs.inputs.run_isolated`: :func:`run_job`, its
    result sent through ``send``.

    The child first leads a process group of its own, and its command stays in it
    (``new_session=False``): the parent kills that one group to leave nothing behind. It lives
    here, in a module the fork server has imported, so that the child imports nothing more.
    """
    os.setsid()
    with contextlib.suppress(BrokenPipeError):
        send.send(run_job(job, settings, workdir, new_session=False))
    send.close()


def kill_running_command() -> None:
    """Kill the command this process runs, with everything it started; a no-op when none runs.

    Called when an attempt ends, and by a worker told to stop (a cancelled step): the command
    runs in a session of its own, so stopping the worker alone would leave it running.
    """
    group = _running_group
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        _set_running_group(None)


def exit_reason(status: int, stderr: bytes) -> str:
    """Why a command failed: its exit status (or signal) and the last lines of its stderr."""
    head = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    lines = stderr.decode(errors="replace").rstrip().splitlines()[-REASON_LINES:]
    return "\n".join([head, *lines])


def collect_outputs(task: TaskSpec, settings: Settings, workdir: Path) -> dict[str, Any]:
    """A command task's outputs, read from their declared paths.

    A file output is reported by its stored path; a value output's file is read as JSON, or as
    stripped text when it is not JSON; a table output's file is read as an upload is (CSV,
    Parquet, ... by its extension) and stored as ``outputs/<name>.parquet``.
    """
    data_dir = settings.data_dir
    outputs: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        reader: OutputReader | None = None
        for name, port in task.outputs.items():
            if not port.path:
                raise StepError(f"output '{name}' is missing: it has no path")
            path = output_path(name, workdir, port.path)
            if port.kind == "file":
                outputs[name] = stored_path(data_dir, path)
            elif port.kind == "value":
                outputs[name] = read_value(path)
            else:
                if reader is None:
                    from datamill.runs.tables import OutputReader

                    reader = stack.enter_context(OutputReader(settings, workdir))
                target = table_target(task, name, workdir)
                convert_table(name, port.path, reader.convert, path, target)
                outputs[name] = stored_path(data_dir, target.resolve())
    return outputs


def output_path(name: str, workdir: Path, path: str | os.PathLike[str]) -> Path:
    """The real path of output ``name``, a regular file inside ``workdir``; a
    :class:`StepError` naming the output otherwise (see :func:`~datamill.runs.workdir.output_file`).
    """
    try:
        return output_file(workdir, path)
    except FileNotFoundError as problem:
        raise StepError(f"output '{name}' is missing: {problem}") from None
    except OutputPathError as problem:
        raise StepError(f"output '{name}' {problem}") from None


def table_target(task: TaskSpec, name: str, workdir: Path) -> Path:
    """Where table output ``name`` is stored: ``outputs/<name>.parquet``, unless another output
    is declared there."""
    relative = f"{OUTPUTS_DIR}/{name}.parquet"
    for other, port in task.outputs.items():
        if other != name and port.path == relative:
            raise StepError(
                f"output '{name}' is stored as {relative}, the path of output '{other}'"
            )
    return workdir / relative


def convert_table(
    name: str, where: str | None, convert: Callable[[Any, Path], None], value: Any, target: Path
) -> None:
    """Store output ``name`` at ``target`` by ``convert``; its failure is a :class:`StepError`
    naming the output."""
    from datamill.runs.tables import TableError

    try:
        convert(value, target)
    except TableError as problem:
        place = f" ({where})" if where else ""
        raise StepError(f"output '{name}'{place} is not a table: {problem}") from None


def read_value(path: Path) -> Any:
    text = path.read_text(encoding="utf-8").strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def call_function(
    job: Job,
    staged: Mapping[str, Any],
    settings: Settings,
    workdir: Path,
    on_progress: OnProgress | None = None,
) -> Result:
    """Call a python task's function with its parameters and inputs as keyword arguments.

    File inputs are passed as absolute paths, table inputs as pandas DataFrames. A function
    with a ``workdir`` parameter gets the working directory, where it writes its file outputs;
    one with a ``progress`` parameter gets a :class:`~datamill.runs.progress.Progress`. What
    it prints goes to ``log.txt`` (capped); an exception is a failure, its traceback logged.
    """
    task = job.task
    function = load_function(task.function or "")
    arguments: dict[str, Any] = {**job.params, **function_inputs(task, staged, workdir)}
    wanted = _parameter_names(function)
    if "workdir" in wanted:
        arguments["workdir"] = workdir
    if "progress" in wanted and "progress" not in arguments:
        arguments["progress"] = Progress(on_progress)
    with CappedLog(workdir / LOG_FILE, settings.step_log_bytes) as log:
        stream = cast(io.TextIOWrapper, log)
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                returned = function(**arguments)
        except Exception as problem:  # any failure of task code fails the attempt
            log.write(traceback.format_exc())
            return Result("failed", reason=f"{type(problem).__name__}: {problem}")
    return Result("succeeded", function_outputs(task, returned, settings.data_dir, workdir))


def function_inputs(task: TaskSpec, staged: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """The staged inputs as a function takes them: files as absolute paths, tables read."""
    arguments: dict[str, Any] = {}
    for name, port in task.inputs.items():
        value = staged[name]
        if port.kind == "file":
            arguments[name] = workdir / value
        elif port.kind == "table":
            from datamill.runs import tables

            try:
                arguments[name] = tables.read_dataframe(value)
            except tables.TableError as problem:
                raise StepError(f"input '{name}': {problem}") from None
        else:
            arguments[name] = value
    return arguments


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
    """The declared outputs from a function's returned dict: files as stored paths, tables
    written as ``outputs/<name>.parquet``, values as JSON values."""
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
            outputs[name] = stored_path(data_dir, output_path(name, workdir, value))
        elif port.kind == "table":
            from datamill.runs.tables import write_returned

            target = table_target(task, name, workdir)
            convert_table(name, None, write_returned, value, target)
            outputs[name] = stored_path(data_dir, target.resolve())
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
    """:func:`record_result` in a transaction of its own."""
    with sessions() as db:
        outcome = record_result(db, run_id, step, attempt, result, now())
        db.commit()
    return outcome


def record_result(
    db: Session, run_id: str, step: str, attempt: int, result: Result, now: datetime
) -> Outcome:
    """Apply the transition that ``result`` calls for; a success that is applied records its
    artifacts (or lands its revision) in the same transaction. The caller commits."""
    if result.revision is not None:
        from datamill.operations.landing import record_landing

        return record_landing(db, run_id, step, attempt, result, now)
    if result.status == "succeeded":
        args: tuple[Any, ...] = (machine.succeeded, step, attempt, result.outputs)
    elif result.status == "failed":
        args = (machine.failed, step, attempt, result.reason)
    else:
        args = (machine.timed_out, step, attempt, result.seconds)
    outcome = apply(db, run_id, *args, now=now)
    if result.status == "succeeded" and outcome.applied and result.produced:
        record_artifacts(db, run_id, step, result.produced)
    return outcome
