"""A run's inputs: stored, measured and validated before the run exists.

Uploaded files wait in a staging directory of their own (``tmp/run-inputs-<hex>/``) under the
names they will keep, ``<input><ext>`` (a table as ``<input>.parquet``), while the validators
look at them. Only when every check passed and the run row is flushed does the directory become
``inputs/<run id>/`` in one rename; on any failure it is removed, so a refused submission
leaves no file behind.

Every failing item is collected rather than raised, so that one 422 lists them all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
import re
import shutil
import signal
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy.orm import Session

from datamill.auth.permissions import can_read
from datamill.config import Settings
from datamill.datasets import catalog
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, ingest
from datamill.datasets.types import ColumnType
from datamill.db.models import Revision, User, looks_like_id
from datamill.pipelines import interface
from datamill.pipelines.errors import Error
from datamill.pipelines.pipeline import PipelineInput, PipelineSpec
from datamill.pipelines.store import find_task, task_spec
from datamill.pipelines.tasks import validate_task_params
from datamill.pipelines.validators import (
    ColumnsValidator,
    FileValidator,
    RegexValidator,
    RowsValidator,
    TaskValidator,
)
from datamill.problems import Problem, field_error
from datamill.runs.execution import Job, Result, run_in_own_group
from datamill.storage.files import check_id, fsync_dir, publish, remove_quietly

INPUTS_DIR = "inputs"
VALIDATOR_TIMEOUT_SECONDS = 60
"""The longest a validator task may run: the caller is waiting for the answer."""
_SUFFIX = re.compile(r"\.[a-z0-9]{1,16}")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a submission, already on disk in the temporary directory."""

    path: Path
    filename: str
    size: int


@dataclass
class _Facts:
    """What the validators look at for one input."""

    value: Any
    filename: str | None = None
    size: int | None = None
    columns: dict[str, ColumnType] | None = None
    rows: int | None = None


@dataclass
class PendingInputs:
    """The staged files of one submission and every input's value (see the module docstring)."""

    settings: Settings
    staging: Path = field(init=False)
    values: dict[str, Any] = field(default_factory=dict)
    staged: dict[str, str] = field(default_factory=dict)
    """Input name -> file name inside the staging directory."""

    def __post_init__(self) -> None:
        self.staging = self.settings.tmp_dir / f"run-inputs-{uuid.uuid4().hex}"

    def stage_path(self, name: str, suffix: str) -> Path:
        self.staging.mkdir(parents=True, exist_ok=True)
        self.staged[name] = f"{name}{suffix}"
        return self.staging / self.staged[name]

    def relative(self, path: Path) -> str:
        return path.relative_to(self.settings.data_dir).as_posix()

    def publish(self, run_id: str) -> dict[str, Any]:
        """Move the staged files to ``inputs/<run id>/``; the values with their final paths."""
        if not self.staged:
            return dict(self.values)
        final = run_inputs_dir(self.settings.data_dir, run_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.staging.rename(final)
        fsync_dir(final.parent)
        prefix = final.relative_to(self.settings.data_dir).as_posix()
        moved = {name: f"{prefix}/{file}" for name, file in self.staged.items()}
        return {**self.values, **moved}

    def discard(self, run_id: str | None = None) -> None:
        """Remove the staged files, and those already published for ``run_id``."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if run_id is not None and self.staged:
            shutil.rmtree(run_inputs_dir(self.settings.data_dir, run_id), ignore_errors=True)


def run_inputs_dir(data_dir: Path, run_id: str) -> Path:
    return data_dir / INPUTS_DIR / check_id(run_id)


def file_suffix(filename: str) -> str:
    """The upload's extension if it is a plain one (``.csv``), else none: names on disk are ours."""
    suffix = PurePath(filename).suffix.lower()
    return suffix if _SUFFIX.fullmatch(suffix) else ""


def gather_inputs(
    db: Session,
    settings: Settings,
    engine: Engine,
    user: User,
    spec: PipelineSpec,
    given: Mapping[str, Any],
    files: Mapping[str, UploadedFile],
    pending: PendingInputs,
) -> list[Error]:
    """Store and check every input of a submission; the values land in ``pending.values``.

    Returns every problem (``["inputs", name]``): missing and unknown inputs, values of the
    wrong shape, files that cannot be read as tables, datasets that cannot be read, and each
    failing validator. Task validators run only on inputs that passed everything else.
    """
    errors: list[Error] = [
        field_error(["inputs", name], "sent twice: as a file and in the inputs field")
        for name in files
        if name in given
    ]
    errors.extend(strip_body(interface.input_errors(spec, sorted({*given, *files}))))
    facts: dict[str, _Facts] = {}
    for name, spec_input in spec.inputs.items():
        if name in files and name not in given:
            found = _uploaded(settings, engine, name, spec_input, files[name], pending)
        elif name in given and name not in files:
            found = _given(db, settings, user, name, spec_input, given[name])
        else:
            continue
        if isinstance(found, str):
            errors.append(field_error(["inputs", name], found))
            continue
        problems = pure_problems(spec_input, found)
        errors.extend(field_error(["inputs", name], problem) for problem in problems)
        if not problems:
            facts[name] = found
            pending.values[name] = found.value
    if errors:
        return errors
    for name, found in facts.items():
        for validator in spec.inputs[name].validators:
            if isinstance(validator, TaskValidator):
                problem = run_task_validator(db, settings, validator, found.value)
                if problem is not None:
                    errors.append(field_error(["inputs", name], problem))
    return errors


def strip_body(errors: Sequence[Error]) -> list[Error]:
    """The interface's locations start with ``"body"``; a run's errors name the field itself."""
    return [
        field_error(e["loc"][1:] if e["loc"][:1] == ["body"] else e["loc"], e["msg"])
        for e in errors
    ]


def _uploaded(
    settings: Settings,
    engine: Engine,
    name: str,
    spec_input: PipelineInput,
    upload: UploadedFile,
    pending: PendingInputs,
) -> _Facts | str:
    if spec_input.kind == "value":
        return "a value input is sent as JSON in the inputs field, not as a file"
    facts = _Facts(value=None, filename=upload.filename, size=upload.size)
    early = [
        problem
        for validator in spec_input.validators
        if isinstance(validator, FileValidator)
        for problem in validator.problems(upload.filename, upload.size)
    ]
    if early:  # no need to store or read a file of the wrong kind or size
        return "; ".join(early)
    if spec_input.kind == "file":
        target = pending.stage_path(name, file_suffix(upload.filename))
        publish(upload.path, target)
        facts.value = pending.relative(target)
        return facts
    target = pending.stage_path(name, ".parquet")
    try:
        result = ingest(
            engine, upload.path, upload.filename, target, IngestOptions(), tmp_dir=settings.tmp_dir
        )
    except Problem as problem:
        remove_quietly(target)
        pending.staged.pop(name, None)
        return f"cannot be read as a table: {problem.detail}"
    finally:
        remove_quietly(upload.path)
    facts.value = pending.relative(target)
    facts.columns = {c["name"]: c["type"] for c in result.columns}
    facts.rows = result.row_count
    return facts


def _given(
    db: Session, settings: Settings, user: User, name: str, spec_input: PipelineInput, value: Any
) -> _Facts | str:
    if spec_input.kind == "value":
        return _Facts(value=value)
    if spec_input.kind == "file":
        return f"a file input is uploaded as a multipart part named '{name}'"
    if not isinstance(value, dict) or set(value) != {"dataset"}:
        return (
            f'expected {{"dataset": "<id>"}}, or the table uploaded as a multipart part '
            f"named '{name}'"
        )
    dataset_id = value["dataset"]
    dataset = (
        catalog.get_dataset(db, dataset_id)
        if isinstance(dataset_id, str) and looks_like_id(dataset_id)
        else None
    )
    if dataset is None or not can_read(user, dataset):
        return f"there is no dataset {dataset_id!r} that you can read"
    revision = db.get(Revision, dataset.head_revision_id) if dataset.head_revision_id else None
    if revision is None:
        return f"the dataset {dataset_id!r} has no revision yet"
    path = settings.revisions_dir / revision.path
    return _Facts(
        value=path.relative_to(settings.data_dir).as_posix(),
        columns={c["name"]: c["type"] for c in revision.columns},
        rows=revision.row_count,
    )


def pure_problems(spec_input: PipelineInput, facts: _Facts) -> list[str]:
    """What the validators that need no task say about an input."""
    problems: list[str] = []
    for validator in spec_input.validators:
        if isinstance(validator, FileValidator) and facts.filename is not None:
            problems += validator.problems(facts.filename, facts.size or 0)
        elif isinstance(validator, ColumnsValidator) and facts.columns is not None:
            problems += validator.problems(facts.columns)
        elif isinstance(validator, RowsValidator) and facts.rows is not None:
            problems += validator.problems(facts.rows)
        elif isinstance(validator, RegexValidator):
            if isinstance(facts.value, str):
                problems += validator.problems(facts.value)
            else:
                problems.append(f"expected text matching {validator.pattern}")
    return problems


def run_task_validator(
    db: Session, settings: Settings, validator: TaskValidator, value: Any
) -> str | None:
    """Why the validator task refuses ``value``, or None when it succeeds.

    The task runs as a step would (``run_job``), in a child process of its own: a crash, a
    hang or a memory blow-up of task code costs that process, never the API.
    """
    row = find_task(db, validator.task)
    if row is None:
        return f"the validator task '{validator.task}' is not registered any more"
    task = task_spec(row)
    params, errors = validate_task_params(task, {})
    if errors or len(task.inputs) != 1:
        return f"the task '{task.name}' cannot be used as a validator of this input"
    (port,) = task.inputs
    workdir = settings.tmp_dir / f"validate-{uuid.uuid4().hex}"
    timeout = min(task.timeout, VALIDATOR_TIMEOUT_SECONDS)
    try:
        result = run_isolated(Job(task, {port: value}, params), settings, workdir, timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.status == "succeeded":
        return None
    reason = result.reason.strip() or "no reason given"
    return f"refused by the validator task '{task.name}': {reason}"


def run_isolated(job: Job, settings: Settings, workdir: Path, timeout: float) -> Result:
    """:func:`run_job` in a child process of its own, killed after ``timeout`` seconds.

    The child is forked from a fork server that has imported the execution code once (a
    validator answers in milliseconds, not the seconds a spawned interpreter takes to start).
    It leads a process group of its own, where its command stays: killing that group when the
    child is done, has timed out or has died leaves nothing of the validator running.
    """
    context = _validator_context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=run_in_own_group, args=(send, job, settings, workdir), name="datamill-validator"
    )
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                result: Result = receive.recv()
                return result
            except EOFError:
                pass
        else:
            return Result("timed_out", reason=f"no answer after {timeout:g} s")
    finally:
        if child.pid is not None:
            # The child first, so that it starts nothing more; then its group (its pid stays
            # reserved until it is joined), where its command and what that started are.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
        child.join()
        receive.close()
    return Result("failed", reason=f"the validator process died (exit code {child.exitcode})")


def _validator_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    global _preload_set
    if not _preload_set:
        # The fork server is shared by the whole process and takes its preload list when it
        # starts: the local pool asks for more, and whichever comes first sets it.
        context.set_forkserver_preload(VALIDATOR_PRELOAD)
        _preload_set = True
    return context


_preload_set = False
VALIDATOR_PRELOAD = ["datamill.runs.execution", "datamill.cli"]
"""What the fork server imports once for every validator's child: the child's function lives in
the first; a forked child also runs the main script again (``datamill``, which imports the
second), and that must cost nothing."""
