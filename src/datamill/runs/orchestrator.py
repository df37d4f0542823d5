"""The run state machine applied to the database: create runs, apply transitions, run the timer.

Plain functions over an explicit session. They write (Core statements in the session's
transaction) and never commit: the caller commits, then carries out the effects (see
``README.md``, "How the machine is used"). Each transition loads its run under a row lock, so
transitions of one run are serialised across processes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from datamill.caching import Lru
from datamill.db.engine import holds_write_lock
from datamill.db.models import (
    Run,
    RunStep,
    Worker,
    new_id,
    utcnow,
)
from datamill.pipelines.graph import Graph, step_dependencies
from datamill.pipelines.pipeline import PipelineSpec
from datamill.pipelines.store import (
    TaskRow,
    own_spec,
    pinned_task,
    task_rows,
    task_spec,
    version_spec,
)
from datamill.pipelines.tasks import TaskSpec
from datamill.problems import NotFound
from datamill.runs import machine
from datamill.runs.effects import Effect, Outcome
from datamill.runs.persistence import (
    RunStamps,
    StepRow,
    run_values,
    step_record,
    step_values,
    to_datetime,
)
from datamill.runs.records import RunRecord, new_run

ACTIVE_RUN_STATES = ("queued", "running")

Transition = Callable[..., Outcome]
"""A function of :mod:`datamill.runs.machine`: ``started``, ``failed``, ``cancel``, ``plan``..."""


@dataclasses.dataclass(frozen=True)
class RunEffect:
    """An effect of one run, for the timer that handles many runs at once."""

    run_id: str
    effect: Effect


RUNS = cast(Table, Run.__table__)
STEPS = cast(Table, RunStep.__table__)
_RUN_COLUMNS = (
    RUNS.c.id,
    RUNS.c.pipeline_version_id,
    RUNS.c.dataset_id,
    RUNS.c.spec,
    RUNS.c.params,
    RUNS.c.inputs,
    RUNS.c.state,
    RUNS.c.started_at,
    RUNS.c.finished_at,
    RUNS.c.error,
)
_STEP_FIELDS = dataclasses.fields(StepRow)
_STEP_COLUMNS = tuple(STEPS.c[f.name].label(f"step_{f.name}") for f in _STEP_FIELDS)
"""The columns of :class:`StepRow`, labelled apart from the run's in the join."""


# The statements of the hot path, built once: building a statement costs several times
# executing it (coercing every column, then working out its cache key), and every run goes
# through these a handful of times. An UPDATE or INSERT takes its columns from the keys of the
# parameters it is executed with.
_MINE = RUNS.c.id == bindparam("run_id")
_LOAD = (
    select(*_RUN_COLUMNS, *_STEP_COLUMNS)
    .select_from(RUNS.outerjoin(STEPS, STEPS.c.run_id == RUNS.c.id))
    .where(_MINE)
    .order_by(STEPS.c.name)  # the order of a run's steps, its events and its error
)
_LOCK_SQLITE = update(RUNS).where(_MINE).values(state=RUNS.c.state)
_LOCK = select(RUNS.c.id).where(_MINE).with_for_update()
_INSERT_RUN = insert(RUNS)
_INSERT_STEP = insert(STEPS)
_UPDATE_RUN = update(RUNS).where(_MINE)
_UPDATE_STEP = update(STEPS).where(STEPS.c.id == bindparam("step_id"))


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """A run as read under its lock: the fields of its row, its record and its step rows.

    After :func:`apply_and_read`, ``record`` is the run as saved; ``steps`` stay as read (the
    pinned tasks and the outputs of the steps that had finished do not change in a transition).
    """

    id: str
    pipeline_version_id: str | None
    dataset_id: str | None
    """The dataset whose history a run of operations lands in; None for a pipeline's run."""
    spec: dict[str, Any] | None
    """The pipeline document of a run Datamill made itself (no pipeline version behind it)."""
    params: dict[str, Any]
    inputs: dict[str, Any]
    stamps: RunStamps
    record: RunRecord
    steps: Mapping[str, StepRow]


def create_run(
    db: Session,
    pipeline_id: str,
    version_id: str,
    owner_id: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    now: datetime,
    run_id: str | None = None,
    tasks: Mapping[str, TaskRow] | None = None,
) -> tuple[str, list[Effect]]:
    """A run of the pipeline version ``version_id`` with one step row per step, each pinning
    its task's spec as of now: the new run's id and its first effects.

    The run is planned before its rows are written, so they are inserted once, as planned: the
    effects hold the first dispatches. Raises ``NotFound`` when a task the version names has
    been deleted, and ``CycleError`` for a graph no order can run. ``tasks`` are the registered
    tasks by name, when the caller has just read them (a submission has, to check the version
    still fits them); they are read here otherwise.
    """
    spec = version_spec(db, version_id)
    names = {step.task for step in spec.steps.values()}
    tasks = _tasks(db, names) if tasks is None or not names <= tasks.keys() else tasks
    documents = {name: tasks[step.task].spec for name, step in spec.steps.items()}
    # Parsed once per task and change (not per content): the hot path of every submission.
    pinned = {name: task_spec(tasks[step.task]) for name, step in spec.steps.items()}
    run = {
        "id": run_id or new_id(),
        "pipeline_id": pipeline_id,
        "pipeline_version_id": version_id,
        "dataset_id": None,
        "spec": None,
        "owner_id": owner_id,
        "params": dict(params),
        "inputs": dict(inputs),
    }
    return _insert_run(db, run, spec, _graph(db, version_id), documents, pinned, now)


def create_dataset_run(
    db: Session,
    dataset_id: str,
    owner_id: str,
    spec: PipelineSpec,
    tasks: Mapping[str, Mapping[str, Any]],
    inputs: Mapping[str, Any],
    now: datetime,
) -> tuple[str, list[Effect]]:
    """A run of operations on a dataset: ``spec`` is the pipeline Datamill made for it (kept in
    the run), ``tasks`` the task document each step pins, by step name."""
    run = {
        "id": new_id(),
        "pipeline_id": None,
        "pipeline_version_id": None,
        "dataset_id": dataset_id,
        "spec": spec.document(),
        "owner_id": owner_id,
        "params": {},
        "inputs": dict(inputs),
    }
    pinned = {name: pinned_task(document) for name, document in tasks.items()}
    return _insert_run(db, run, spec, step_dependencies(spec), tasks, pinned, now)


def _insert_run(
    db: Session,
    run: dict[str, Any],
    spec: PipelineSpec,
    graph: Graph,
    documents: Mapping[str, Mapping[str, Any]],
    pinned: Mapping[str, TaskSpec],
    now: datetime,
) -> tuple[str, list[Effect]]:
    """Insert the run ``run`` and a row per step pinning its task document (``pinned``: the
    same, parsed), planned first so that the rows are written once: the run's id and its first
    effects."""
    limits = {name: task.retries + 1 for name, task in pinned.items()}
    queues = {name: task.queue for name, task in pinned.items()}
    outcome = machine.plan(new_run(graph, limits, queues), now.timestamp())
    conn = db.connection()
    stamps = run_values(RunStamps("queued"), outcome.run, now)
    row = {
        **run,
        "outputs": {},
        "created_at": now,
        "state": "queued",
        "started_at": None,
        "finished_at": None,
        "error": None,
    }
    conn.execute(_INSERT_RUN, {**row, **stamps})
    for name, step in spec.steps.items():
        conn.execute(
            _INSERT_STEP,
            {
                "id": new_id(),
                "run_id": run["id"],
                "name": name,
                "task_name": step.task,
                "task": dict(documents[name]),
                "queue": pinned[name].queue,
                **step_values(outcome.run.steps[name]),
            },
        )
    return str(run["id"]), list(outcome.effects)


def _tasks(db: Session, names: set[str]) -> Mapping[str, TaskRow]:
    """The registered tasks named ``names`` (id, change time and spec), by name; ``NotFound``
    naming one that is not."""
    found = task_rows(db, names)
    missing = sorted(names - found.keys())
    if missing:
        raise NotFound(f"There is no task named {missing[0]!r}.")
    return found


def load_run(db: Session, run_id: str, *, lock: bool) -> LoadedRun:
    """The run and its steps, read afresh from the database.

    With ``lock`` the run's row is locked until the transaction ends: ``SELECT ... FOR UPDATE``
    on PostgreSQL. SQLite ignores ``FOR UPDATE`` and its driver begins a transaction only at the
    first write, so there a no-op update of the row comes first: it takes the database's write
    lock, and what is read next cannot change before the commit (no lost update between the
    API process and the workers).

    Core statements, not ORM objects: a transition is the hot path of every run, and loading
    and flushing entities cost several times the statements themselves.
    """
    conn = db.connection()
    if lock:
        # The lock comes first, in a statement of its own: PostgreSQL would give a locking join
        # that had to wait the run's row as it is now, but the steps as they were when the
        # statement began, from before the transaction it waited for. On SQLite a transaction
        # that has written holds the whole database already (see ``db.engine``).
        if conn.dialect.name != "sqlite":
            conn.execute(_LOCK, {"run_id": run_id})
        elif not holds_write_lock(conn):
            conn.execute(_LOCK_SQLITE, {"run_id": run_id})
    rows = conn.execute(_LOAD, {"run_id": run_id}).all()
    if not rows:
        raise NotFound(f"There is no run {run_id!r}.")
    first = rows[0]
    steps = {
        row.step_name: StepRow(
            **{field.name: row._mapping[f"step_{field.name}"] for field in _STEP_FIELDS}
        )
        for row in rows
        if row.step_id is not None
    }
    graph = (
        _graph(db, first.pipeline_version_id)
        if first.pipeline_version_id is not None
        else _own_graph(first.id, first.spec)
    )
    record = RunRecord(first.state, {name: step_record(row) for name, row in steps.items()}, graph)
    stamps = RunStamps(first.state, first.started_at, first.finished_at, first.error)
    return LoadedRun(
        first.id,
        first.pipeline_version_id,
        first.dataset_id,
        first.spec,
        first.params,
        first.inputs,
        stamps,
        record,
        steps,
    )


def save(
    db: Session, loaded: LoadedRun, outcome: Outcome, now: datetime | None = None
) -> LoadedRun:
    """Write the steps ``outcome`` changed, and the run's row when its state or times change;
    the run as it stands then.

    ``now`` stamps the run's ``started_at`` / ``finished_at``; by default, the time of the
    outcome's latest event. ORM objects of the run that the session holds are expired, so that
    a caller reading them next sees what was written.
    """
    at = now or _latest_time(outcome)
    conn = db.connection()
    for name in outcome.changed:
        values = step_values(outcome.run.steps[name])
        conn.execute(_UPDATE_STEP, {"step_id": loaded.steps[name].id, **values})
    changes = run_values(loaded.stamps, outcome.run, at)
    if changes:
        conn.execute(_UPDATE_RUN, {"run_id": loaded.id, **changes})
    _expire(db, loaded.id)
    return dataclasses.replace(
        loaded, stamps=dataclasses.replace(loaded.stamps, **changes), record=outcome.run
    )


def _expire(db: Session, run_id: str) -> None:
    for item in list(db.identity_map.values()):
        if (isinstance(item, Run) and item.id == run_id) or (
            isinstance(item, RunStep) and item.run_id == run_id
        ):
            db.expire(item)


def apply(
    db: Session,
    run_id: str,
    transition: Transition,
    *args: Any,
    now: datetime,
    **options: Any,
) -> Outcome:
    """Apply ``transition(record, *args, now, **options)`` to the locked run and save it.

    For example ``apply(db, run_id, machine.failed, "load", 2, "exit status 1", now=now)``. An
    outcome that is not ``applied`` changes nothing in the database.
    """
    outcome, _ = apply_and_read(db, run_id, transition, *args, now=now, **options)
    return outcome


def apply_and_read(
    db: Session,
    run_id: str,
    transition: Transition,
    *args: Any,
    now: datetime,
    **options: Any,
) -> tuple[Outcome, LoadedRun]:
    """:func:`apply`, with the run as it stands after the transition (for a worker that goes on
    to prepare the step it just started, without reading the run again)."""
    loaded = load_run(db, run_id, lock=True)
    outcome = transition(loaded.record, *args, now.timestamp(), **options)
    if outcome.applied:
        loaded = save(db, loaded, outcome, now)
    return outcome, loaded


def active_runs(db: Session) -> list[str]:
    """The ids of runs not finished yet, oldest first."""
    query = select(Run.id).where(Run.state.in_(ACTIVE_RUN_STATES)).order_by(Run.created_at)
    return list(db.scalars(query))


def due_runs(
    db: Session, now: datetime, heartbeat_timeout: float, redeliver_after: float
) -> list[str]:
    """The active runs that :func:`tick_run` would change now, found without locking any.

    A due backoff, a dispatch not started after ``redeliver_after`` seconds, a running step
    past its task's timeout or on a worker silent for ``heartbeat_timeout`` seconds. Cheap
    enough for every tick of the timer, however many runs wait in the queue.
    """
    resend_before = now - timedelta(seconds=redeliver_after)
    waiting = select(RunStep.run_id).where(
        RunStep.state == "queued",
        or_(RunStep.next_attempt_at <= now, RunStep.queued_at <= resend_before),
    )
    due = set(db.scalars(waiting))
    running = db.execute(
        select(RunStep.run_id, RunStep.started_at, RunStep.worker_id, RunStep.task).where(
            RunStep.state == "running"
        )
    ).all()
    workers = {worker for _, _, worker, _ in running if worker}
    alive = (
        set(
            db.scalars(
                select(Worker.id).where(
                    Worker.id.in_(workers),
                    Worker.last_heartbeat_at >= now - timedelta(seconds=heartbeat_timeout),
                )
            )
        )
        if workers
        else set()
    )
    for run_id, started_at, worker, task in running:
        ran = (now - started_at).total_seconds() if started_at is not None else 0.0
        if ran >= float(task.get("timeout", 3600)) or worker not in alive:
            due.add(run_id)
    return sorted(due)


def tick(
    db: Session,
    now: datetime,
    heartbeat_timeout: float,
    *,
    redeliver_after: float | None = None,
) -> list[RunEffect]:
    """The timer: what every active run needs because time passed.

    Dispatches due backoffs and resends dispatches not started after ``redeliver_after``
    seconds (by default ``heartbeat_timeout``); times out running steps past their pinned
    task's timeout; and declares lost the running steps whose worker's last heartbeat is older
    than ``heartbeat_timeout`` seconds (or whose worker row is gone while its id is kept).

    Every active run stays locked until the caller commits; a timer that should not hold them
    all at once loops over :func:`active_runs` and commits after each :func:`tick_run`.
    """
    resend = heartbeat_timeout if redeliver_after is None else redeliver_after
    found: list[RunEffect] = []
    for run_id in active_runs(db):
        effects = tick_run(db, run_id, now, heartbeat_timeout, redeliver_after=resend)
        found.extend(RunEffect(run_id, effect) for effect in effects)
    return found


def tick_run(
    db: Session,
    run_id: str,
    now: datetime,
    heartbeat_timeout: float,
    *,
    redeliver_after: float | None = None,
) -> list[Effect]:
    """:func:`tick` for one run: its effects, with the run locked and saved (not committed)."""
    resend = heartbeat_timeout if redeliver_after is None else redeliver_after
    loaded = load_run(db, run_id, lock=True)
    record = loaded.record
    at = now.timestamp()
    outcomes = [machine.plan(record, at, redeliver_after=resend)]
    silent = _silent_workers(db, record, now - timedelta(seconds=heartbeat_timeout))
    for name, step in record.steps.items():
        if step.state != "running":
            continue
        current = outcomes[-1].run
        timeout = float(loaded.steps[name].task.get("timeout", 3600))
        started = step.started_at if step.started_at is not None else at
        if at - started >= timeout:
            outcomes.append(machine.timed_out(current, name, step.attempt, timeout, at))
        elif step.worker in silent:
            outcomes.append(machine.lost(current, name, step.attempt, step.worker, at))
    effects: list[Effect] = []
    for outcome in outcomes:
        if outcome.applied:
            loaded = save(db, loaded, outcome, now)
            effects.extend(outcome.effects)
    return effects


def _silent_workers(db: Session, record: RunRecord, since: datetime) -> set[str]:
    """The workers of the run's running steps that sent no heartbeat since ``since``."""
    ids = {s.worker for s in record.steps.values() if s.state == "running" and s.worker}
    if not ids:
        return set()
    alive = db.scalars(
        select(Worker.id).where(Worker.id.in_(ids), Worker.last_heartbeat_at >= since)
    )
    return ids - set(alive)


GRAPH_CACHE_SIZE = 1024
_graphs: Lru[str, Graph] = Lru(GRAPH_CACHE_SIZE)


def _graph(db: Session, version_id: str) -> Graph:
    """What each step of a pipeline version depends on; versions never change, so it is worked
    out once per process."""
    return _graphs.get_or_build(version_id, lambda: step_dependencies(version_spec(db, version_id)))


def _own_graph(run_id: str, document: Mapping[str, Any] | None) -> Graph:
    """The graph of a run that keeps its own pipeline document, worked out once per process."""
    return _graphs.get_or_build(
        f"run:{run_id}", lambda: step_dependencies(run_spec(None, run_id, None, document))
    )


def run_spec(
    db: Session | None,
    run_id: str,
    version_id: str | None,
    document: Mapping[str, Any] | None,
) -> PipelineSpec:
    """The pipeline a run follows: its pinned version's, or the one it keeps (cached by run)."""
    if version_id is not None:
        assert db is not None
        return version_spec(db, version_id)
    if document is None:
        raise NotFound(f"Run {run_id!r} has neither a pipeline version nor a spec.")
    return own_spec(run_id, document)


def _latest_time(outcome: Outcome) -> datetime:
    """When an outcome happened, read from its events; the clock when it has none."""
    moment = to_datetime(max((event.at for event in outcome.events), default=None))
    return moment or utcnow()
