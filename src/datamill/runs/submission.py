"""Submitting a run: fair use, the pipeline still fitting its tasks, validation, then the run.

The order matters. The pipeline is found and fair use judged first: before a byte of a multipart
body is read (the route checks them before reading the upload, so a member at the limit uploads
nothing), and before a JSON body (at most 1 MB) is even parsed. Everything the caller sent is
then checked, and every failing item is listed in one 422. Fair use is judged again, with the
member's row locked, just before the run is created, so concurrent submissions cannot all slip
under the limit. Only then is the run created and its input files moved into place; the caller
commits (this module does, through :func:`submit_run`) and only then carries out the effects.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from datamill.caching import Lru
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.db.models import Pipeline, PipelineVersion, Run, User, new_id
from datamill.pipelines import store
from datamill.pipelines.check import check_pipeline
from datamill.pipelines.interface import validate_params
from datamill.pipelines.pipeline import PipelineSpec
from datamill.problems import Conflict, Invalid, NotFound, TooManyRequests
from datamill.runs.effects import Effect
from datamill.runs.inputs import PendingInputs, UploadedFile, gather_inputs, strip_body
from datamill.runs.orchestrator import ACTIVE_RUN_STATES, create_run
from datamill.storage.files import remove_quietly

RETRY_AFTER_SECONDS = 10
"""What a member at the limit is told to wait before trying again."""


@dataclass
class RunRequest:
    """What a caller sent: parameters and inputs as JSON values, and the uploaded files."""

    params: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    version: int | None = None

    def discard(self) -> None:
        """Remove the uploads still in the temporary directory (stored ones were moved)."""
        for upload in self.files.values():
            remove_quietly(upload.path)


def check_fair_use(db: Session, user: User, limit: int) -> None:
    """A member may have ``limit`` runs queued or running; admins are not limited."""
    if user.is_admin:
        return
    active = db.scalar(
        select(func.count())
        .select_from(Run)
        .where(Run.owner_id == user.id, Run.state.in_(ACTIVE_RUN_STATES))
    )
    if (active or 0) >= limit:
        raise TooManyRequests(
            f"You have {active} runs queued or running, the most a member may have at once "
            f"({limit}); submit again when one of them has finished.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def lock_user(db: Session, user: User) -> None:
    """Hold the user's row until the transaction ends, so that two submissions of one member
    count their active runs one after the other.

    ``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL: it excludes another submission's lock but not
    the key-share locks of rows merely referencing the user (a new token, dataset or run). SQLite
    ignores ``FOR UPDATE`` and its driver begins a transaction only at the first write, so there a
    no-op update takes the database's write lock (as :func:`datamill.runs.orchestrator.load_run`
    does for a run).
    """
    if db.get_bind().dialect.name == "sqlite":
        db.execute(update(User).where(User.id == user.id).values(id=User.id))
    else:
        db.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))


@dataclass(frozen=True)
class PipelineRef:
    """What a submission needs of its pipeline's row."""

    id: str
    name: str
    latest_version: int


_PIPELINE = select(Pipeline.id, Pipeline.name, Pipeline.latest_version).where(
    Pipeline.name == bindparam("name")
)


def pipeline_for_run(db: Session, name: str, user: User, settings: Settings) -> PipelineRef:
    """The pipeline ``name`` (404), if ``user`` may submit a run now (429)."""
    found = db.connection().execute(_PIPELINE, {"name": name}).first()
    if found is None:
        raise NotFound(f"There is no pipeline named {name!r}.")
    check_fair_use(db, user, settings.max_active_runs)
    return PipelineRef(found.id, found.name, found.latest_version)


@dataclass(frozen=True)
class PinnedVersion:
    """The version a run pins: its id, number and parsed spec."""

    id: str
    number: int
    spec: PipelineSpec


_VERSION = select(PipelineVersion.id).where(
    PipelineVersion.pipeline_id == bindparam("pipeline_id"),
    PipelineVersion.version == bindparam("number"),
)
"""Built once, as the orchestrator's statements are: a submission is on every run's path."""


def pinned_version(db: Session, pipeline: PipelineRef, number: int | None) -> PinnedVersion:
    """Version ``number`` of ``pipeline`` (its latest by default), or 404; its spec is parsed
    once per process (versions never change)."""
    wanted = pipeline.latest_version if number is None else number
    found = db.connection().execute(_VERSION, {"pipeline_id": pipeline.id, "number": wanted})
    version_id = found.scalar()
    if version_id is None:
        raise NotFound(f"The pipeline {pipeline.name!r} has no version {wanted}.")
    return PinnedVersion(version_id, wanted, store.version_spec(db, version_id))


_fitting: Lru[Hashable, bool] = Lru(256)
"""Versions known to fit their tasks, by version and the tasks' ids and change times. Versions
never change and a replaced task gets a new ``updated_at``, so a hit is exact: it saves checking
(and re-validating each task's schema) on every submission of a busy pipeline."""


def check_still_fits(
    db: Session, pipeline: PipelineRef, version: PinnedVersion
) -> dict[str, store.TaskRow]:
    """The tasks the version names as registered now (id, change time, spec), by name, if the
    version still checks against them.

    A task replaced after the pipeline was saved can break it; that is the pipeline's problem,
    not the caller's, so it is a 409 naming each broken step, not a 422 or a crash.
    """
    tasks = store.task_rows(db, store.spec_tasks(version.spec))
    key = (version.id, tuple((row.name, row.id, row.updated_at) for row in tasks.values()))
    if _fitting.get(key):
        return tasks
    errors = check_pipeline(version.spec, store.RegisteredTasks(db))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Conflict(
            f"Version {version.number} of the pipeline {pipeline.name!r} no longer fits the "
            f"registered tasks: {where}: {first['msg']}{more}. Its owner must save a new "
            "version (or an admin restore the task) before it can run.",
            errors=[{"loc": ["pipeline", *e["loc"]], "msg": e["msg"]} for e in errors],
        )
    _fitting.put(key, True)
    return tasks


def submit_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    engine: Engine,
    user: User,
    name: str,
    read: Callable[[], RunRequest],
    now: datetime,
) -> tuple[str, list[Effect]]:
    """Find the pipeline ``name`` (404, 429), then validate the request ``read()`` gives and
    create its run, committed: its id and the effects, which are the caller's to carry out.
    On any failure nothing stays: no run row, no input file."""
    pending = PendingInputs(settings)
    run_id: str | None = None
    try:
        with sessions() as db:
            pipeline = pipeline_for_run(db, name, user, settings)
            request = read()
            version = pinned_version(db, pipeline, request.version)
            tasks = check_still_fits(db, pipeline, version)
            spec = version.spec
            params, errors = validate_params(spec, request.params)
            errors = strip_body(errors)
            errors += gather_inputs(
                db, settings, engine, user, spec, request.inputs, request.files, pending
            )
            if errors:
                raise Invalid(_summary(errors), errors=errors)
            if not user.is_admin:
                # The early check read the count without a lock; concurrent submissions all
                # passed it, so it is taken again here, one submission of the member at a time.
                lock_user(db, user)
                check_fair_use(db, user, settings.max_active_runs)
            run_id = new_id()
            inputs = pending.publish(run_id)
            created = create_run(
                db, pipeline.id, version.id, user.id, params, inputs, now, run_id, tasks
            )
            db.commit()
        return created
    except BaseException:
        pending.discard(run_id)
        raise


def _summary(errors: Sequence[Mapping[str, Any]]) -> str:
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"The run cannot start: {where}: {first['msg']}{tail}."
