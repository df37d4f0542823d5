"""Tasks and pipelines in the database: registering tasks, saving pipeline versions, reading them.

Repository functions take the session and flush; the route commits. A spec arrives as the text its
author wrote (YAML or JSON) and is kept verbatim beside its parsed form (``spec``, the JSON the
rest of the code reads). Errors in a submitted spec are 422s whose ``loc`` starts with ``"body"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from datamill.caching import Lru
from datamill.db.models import Pipeline, PipelineVersion, Task, User, utcnow
from datamill.pipelines.check import check_pipeline, check_pipeline_text
from datamill.pipelines.errors import Error, SpecError
from datamill.pipelines.interface import interface
from datamill.pipelines.pipeline import PipelineSpec, parse_pipeline, pipeline_from_document
from datamill.pipelines.tasks import BUILTIN_PREFIX, TaskSpec, parse_task, task_from_document
from datamill.pipelines.validators import TaskValidator
from datamill.problems import Conflict, Invalid, NotFound, field_error


class RegisteredTasks(Mapping[str, TaskSpec]):
    """The tasks table as a read-only mapping of specs by name, read one name at a time.

    ``check_pipeline`` only asks for the tasks a pipeline names, so nothing else is loaded.
    ``overrides`` stand in for rows (to judge a task before it replaces the stored one).
    """

    def __init__(self, db: Session, overrides: Mapping[str, TaskSpec] | None = None) -> None:
        self._db = db
        self._overrides = dict(overrides or {})
        self._cache: dict[str, TaskSpec | None] = dict(self._overrides)

    def __getitem__(self, name: str) -> TaskSpec:
        if name not in self._cache:
            row: TaskRow | None = find_task(self._db, name) or _builtin(name)
            self._cache[name] = None if row is None else task_spec(row)
        spec = self._cache[name]
        if spec is None:
            raise KeyError(name)
        return spec

    def __iter__(self) -> Iterator[str]:
        stored = self._db.scalars(select(Task.name)).all()
        return iter(sorted({*stored, *self._overrides}))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _in_body(errors: Sequence[Error], subject: str) -> SpecError:
    """A refusal listing ``errors`` in the request body (the detail keeps the document's paths)."""
    refusal = SpecError(errors, subject=subject)
    refusal.errors = [field_error(["body", *e["loc"]], e["msg"]) for e in refusal.items]
    return refusal


def read_task(text: str) -> TaskSpec:
    """A task sent to be registered; the names of the built-in operations are refused."""
    try:
        spec = parse_task(text)
    except SpecError as exc:
        raise _in_body(exc.items, "task") from None
    if spec.name.startswith(BUILTIN_PREFIX):
        problem = f"names starting with {BUILTIN_PREFIX!r} are the built-in operations'"
        raise _in_body([field_error(["name"], problem)], "task")
    return spec


def read_pipeline(text: str) -> PipelineSpec:
    try:
        return parse_pipeline(text)
    except SpecError as exc:
        raise _in_body(exc.items, "pipeline") from None


SPEC_CACHE_SIZE = 1024
_specs: Lru[tuple[object, ...], Any] = Lru(SPEC_CACHE_SIZE)
"""Parsed specs by what names their content for good: validating a spec against its JSON
Schema is most of the cost of submitting a run. The key's first item fixes the spec's type."""


class TaskRow(Protocol):
    """What identifies a task's spec for good: a :class:`Task`, or a row of those columns."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def spec(self) -> dict[str, Any]: ...


_TASK_ROWS = (
    select(Task.id, Task.name, Task.updated_at, Task.spec)
    .where(Task.name.in_(bindparam("names", expanding=True)))
    .order_by(Task.name)
)
"""Built once: every submission of a run reads its tasks."""


def task_rows(db: Session, names: Iterable[str]) -> dict[str, TaskRow]:
    """The tasks among ``names`` (id, change time, spec) by name, in name order: registered, or
    built-in (``op-*``); a name no task has is left out."""
    wanted = sorted(names)
    found: dict[str, TaskRow] = {
        row.name: row for row in db.connection().execute(_TASK_ROWS, {"names": wanted})
    }
    for name in wanted:
        if name not in found:
            builtin = _builtin(name)
            if builtin is not None:
                found[name] = builtin
    return found


def _builtin(name: str) -> TaskRow | None:
    from datamill.operations.tasks import builtin_task  # the catalogue imports pipelines

    return builtin_task(name)


def task_spec(task: TaskRow) -> TaskSpec:
    """The parsed spec of ``task`` as it is now (a change of the task bumps ``updated_at``)."""
    key = ("task", task.id, task.updated_at)
    spec: TaskSpec = _specs.get_or_build(key, lambda: task_from_document(task.spec))
    return spec


def pipeline_spec(version: PipelineVersion) -> PipelineSpec:
    """The parsed spec of a pipeline version (versions never change once saved)."""
    spec: PipelineSpec = _specs.get_or_build(
        ("version", version.id), lambda: pipeline_from_document(version.spec)
    )
    return spec


def version_spec(db: Session, version_id: str) -> PipelineSpec:
    """:func:`pipeline_spec` of the version ``version_id``, read only when not cached yet."""

    def read() -> PipelineSpec:
        version = db.get(PipelineVersion, version_id)
        if version is None:
            raise NotFound(f"There is no pipeline version {version_id!r}.")
        return pipeline_from_document(version.spec)

    spec: PipelineSpec = _specs.get_or_build(("version", version_id), read)
    return spec


def own_spec(run_id: str, document: Mapping[str, Any]) -> PipelineSpec:
    """The pipeline a run keeps itself (a run of dataset operations), parsed once per run."""
    spec: PipelineSpec = _specs.get_or_build(
        ("run", run_id), lambda: pipeline_from_document(document)
    )
    return spec


def pinned_task(document: Mapping[str, Any]) -> TaskSpec:
    """The task spec a run's step pinned (``RunStep.task``), parsed once per content: the steps
    of every run of a pipeline pin the same few documents."""
    key = ("pinned", json.dumps(document, sort_keys=True))
    spec: TaskSpec = _specs.get_or_build(key, lambda: task_from_document(document))
    return spec


# Tasks


def find_task(db: Session, name: str) -> Task | None:
    return db.scalar(select(Task).where(Task.name == name))


def get_task(db: Session, name: str) -> Task:
    task = find_task(db, name)
    if task is None:
        raise NotFound(f"There is no task named {name!r}.")
    return task


def list_tasks(db: Session, offset: int, limit: int) -> tuple[Sequence[Task], int]:
    """Tasks by name."""
    total = db.scalar(select(func.count()).select_from(Task)) or 0
    query = select(Task).order_by(Task.name).offset(offset).limit(limit)
    return db.scalars(query).all(), total


def create_task(db: Session, text: str, user: User) -> Task:
    spec = read_task(text)
    if find_task(db, spec.name) is not None:
        raise Conflict(
            f"A task named {spec.name!r} already exists; PUT /api/v1/tasks/{spec.name} replaces it."
        )
    task = Task(name=spec.name, spec=spec.document(), source=text, creator=user)
    db.add(task)
    db.flush()
    return task


def replace_task(db: Session, task: Task, text: str) -> list[str]:
    """Replace a task's spec; the answer lists the pipelines it no longer fits (they are kept:
    their next run is refused until they are fixed)."""
    spec = read_task(text)
    if spec.name != task.name:
        raise Invalid(
            f"The spec is named {spec.name!r} but replaces the task {task.name!r}; "
            "a task cannot be renamed.",
            errors=[field_error(["body", "name"], f"expected '{task.name}'")],
        )
    broken = _pipelines_broken_by(db, spec)
    task.spec = spec.document()
    task.source = text
    task.updated_at = utcnow()
    db.flush()
    return broken


def delete_task(db: Session, task: Task) -> None:
    """Delete a task no pipeline's latest version uses (older versions do not hold it back)."""
    users = [pipeline.name for pipeline, _ in _latest_versions_using(db, task.name)]
    if users:
        raise Conflict(
            f"The task {task.name!r} is used by the latest version of "
            f"{_pipelines_phrase(users)}; change {'it' if len(users) == 1 else 'them'} first."
        )
    db.delete(task)
    db.flush()


def _pipelines_phrase(names: list[str]) -> str:
    quoted = ", ".join(repr(name) for name in names)
    return f"the pipeline{'s' if len(names) > 1 else ''} {quoted}"


def _pipelines_broken_by(db: Session, spec: TaskSpec) -> list[str]:
    tasks = RegisteredTasks(db, overrides={spec.name: spec})
    warnings: list[str] = []
    for pipeline, version in _latest_versions_using(db, spec.name):
        errors = check_pipeline(pipeline_spec(version), tasks)
        if errors:
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"])
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            warnings.append(
                f"pipeline '{pipeline.name}' (version {version.version}) no longer checks: "
                f"{where}: {first['msg']}{more}"
            )
    return warnings


def _latest_versions_using(db: Session, task_name: str) -> list[tuple[Pipeline, PipelineVersion]]:
    """Pipelines whose latest version runs ``task_name`` in a step or as an input validator.

    Specs are JSON, which no two dialects query alike; task deletions and replacements are rare
    admin actions, so the latest specs are scanned here.
    """
    rows = db.execute(_with_latest_version().order_by(Pipeline.name)).all()
    return [(pipeline, version) for pipeline, version in rows if task_name in tasks_used(version)]


def spec_tasks(spec: PipelineSpec) -> set[str]:
    """The tasks a parsed pipeline names: in its steps and in its inputs' validators."""
    used = {step.task for step in spec.steps.values()}
    for spec_input in spec.inputs.values():
        used.update(v.task for v in spec_input.validators if isinstance(v, TaskValidator))
    return used


def tasks_used(version: PipelineVersion) -> set[str]:
    """The tasks a stored pipeline spec names: in its steps and in its inputs' validators."""
    spec = version.spec
    used = {step.get("task") for step in spec.get("steps", {}).values()}
    for spec_input in spec.get("inputs", {}).values():
        used.update(
            validator.get("task")
            for validator in spec_input.get("validators", [])
            if validator.get("kind") == "task"
        )
    return {name for name in used if isinstance(name, str)}


# Pipelines


def can_change(user: User, pipeline: Pipeline) -> bool:
    """Only the owner of a pipeline and admins add versions to it."""
    return user.is_admin or pipeline.owner_id == user.id


def find_pipeline(db: Session, name: str) -> Pipeline | None:
    return db.scalar(select(Pipeline).where(Pipeline.name == name))


def get_pipeline(db: Session, name: str) -> Pipeline:
    pipeline = find_pipeline(db, name)
    if pipeline is None:
        raise NotFound(f"There is no pipeline named {name!r}.")
    return pipeline


def check_text(db: Session, text: str) -> list[Error]:
    """Every problem of a pipeline written as YAML or JSON, at document paths; saves nothing."""
    return check_pipeline_text(text, RegisteredTasks(db))


def save_pipeline(db: Session, spec: PipelineSpec, text: str, user: User) -> PipelineVersion:
    """Save ``spec`` as version 1 of a new pipeline, or as the next version of its name.

    The caller has checked that ``user`` may change an existing pipeline of that name. A spec that
    does not check against the registered tasks is refused with every problem.
    """
    errors = check_pipeline(spec, RegisteredTasks(db))
    if errors:
        raise _in_body(errors, "pipeline")
    now = utcnow()
    pipeline = find_pipeline(db, spec.name)
    if pipeline is None:
        # Two first saves of one name at once: the loser's flush breaks the unique name.
        pipeline = Pipeline(name=spec.name, owner=user, latest_version=1, created_at=now)
        db.add(pipeline)
    else:
        # Incremented by the database, so concurrent saves take one number each.
        pipeline.latest_version = Pipeline.latest_version + 1
    pipeline.updated_at = now
    db.flush()
    version = PipelineVersion(
        pipeline=pipeline,
        version=pipeline.latest_version,
        spec=spec.document(),
        source=text,
        creator=user,
        created_at=now,
    )
    db.add(version)
    db.flush()
    return version


def _with_latest_version() -> Select[Pipeline, PipelineVersion]:
    return select(Pipeline, PipelineVersion).join(
        PipelineVersion,
        and_(
            PipelineVersion.pipeline_id == Pipeline.id,
            PipelineVersion.version == Pipeline.latest_version,
        ),
    )


def list_pipelines(
    db: Session, offset: int, limit: int
) -> tuple[list[tuple[Pipeline, PipelineVersion]], int]:
    """Every pipeline by name, each with its latest version (pipelines are public services)."""
    total = db.scalar(select(func.count()).select_from(Pipeline)) or 0
    query = _with_latest_version().order_by(Pipeline.name).offset(offset).limit(limit)
    return list(db.execute(query).all()), total


def get_version(db: Session, pipeline: Pipeline, number: int) -> PipelineVersion:
    version = db.scalar(
        select(PipelineVersion).where(
            PipelineVersion.pipeline_id == pipeline.id, PipelineVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"The pipeline {pipeline.name!r} has no version {number}.")
    return version


def latest_version(db: Session, pipeline: Pipeline) -> PipelineVersion:
    return get_version(db, pipeline, pipeline.latest_version)


def list_versions(
    db: Session, pipeline: Pipeline, offset: int, limit: int
) -> tuple[Sequence[PipelineVersion], int]:
    """Versions, newest first."""
    where = PipelineVersion.pipeline_id == pipeline.id
    total = db.scalar(select(func.count()).select_from(PipelineVersion).where(where)) or 0
    query = select(PipelineVersion).where(where).order_by(PipelineVersion.version.desc())
    return db.scalars(query.offset(offset).limit(limit)).all(), total


def pipeline_interface(version: PipelineVersion) -> dict[str, Any]:
    """What a caller sends to run this version: its inputs, and a JSON Schema of its params."""
    return interface(pipeline_spec(version))
