"""The run state machine applied to the database: create runs, apply transitions, run the timer.

Plain functions over an explicit session. They flush and never commit: the caller commits, then
carries out the effects (see ``README.md``, "How the machine is used"). Each transition loads
its run under a row lock, so transitions of one run are serialised across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from datamill.caching import Lru
from datamill.db.models import (
    Pipeline,
    PipelineVersion,
    Run,
    RunStep,
    Task,
    User,
    Worker,
    new_id,
    utcnow,
)
from datamill.pipelines.graph import Graph, step_dependencies
from datamill.pipelines.store import pipeline_spec, task_spec, version_spec
from datamill.problems import NotFound
from datamill.runs import machine
from datamill.runs.effects import Effect, Outcome
from datamill.runs.persistence import step_record, to_datetime, write_run, write_step
from datamill.runs.records import RunRecord, new_run

ACTIVE_RUN_STATES = ("queued", "running")

Transition = Callable[..., Outcome]
"""A function of :mod:`datamill.runs.machine`: ``started``, ``failed``, ``cancel``, ``plan``..."""


@dataclass(frozen=True)
class RunEffect:
    """An effect of one run, for the timer that handles many runs at once."""

    run_id: str
    effect: Effect


def create_run(
    db: Session,
    pipeline: Pipeline,
    version: PipelineVersion,
    owner: User,
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    now: datetime,
) -> tuple[Run, list[Effect]]:
    """A run of ``version`` with one step row per step, each pinning its task's spec as of now.

    The run is planned before its rows are written, so they are inserted once, as planned: the
    effects hold the first dispatches. Raises ``NotFound`` when a task the version names has
    been deleted, and ``CycleError`` for a graph no order can run.
    """
    spec = pipeline_spec(version)
    tasks = _tasks(db, {step.task for step in spec.steps.values()})
    pinned = {name: task_spec(tasks[step.task]) for name, step in spec.steps.items()}
    limits = {name: task.retries + 1 for name, task in pinned.items()}
    queues = {name: task.queue for name, task in pinned.items()}
    outcome = machine.plan(new_run(_graph(db, version.id), limits, queues), now.timestamp())
    run = Run(
        id=new_id(),
        pipeline_id=pipeline.id,
        pipeline_version_id=version.id,
        owner_id=owner.id,
        params=dict(params),
        inputs=dict(inputs),
        created_at=now,
    )
    write_run(run, outcome.run, now)
    db.add(run)
    for name, step in spec.steps.items():
        task = tasks[step.task]
        row = RunStep(run_id=run.id, name=name, task_name=task.name, task=dict(task.spec))
        row.queue = pinned[name].queue
        write_step(row, outcome.run.steps[name])
        db.add(row)
    db.flush()
    return run, list(outcome.effects)


def _tasks(db: Session, names: set[str]) -> dict[str, Task]:
    """The registered tasks named ``names``, by name; ``NotFound`` naming one that is not."""
    found = {task.name: task for task in db.scalars(select(Task).where(Task.name.in_(names)))}
    missing = sorted(names - found.keys())
    if missing:
        raise NotFound(f"There is no task named {missing[0]!r}.")
    return found


def load_run(db: Session, run_id: str, *, lock: bool) -> tuple[Run, RunRecord]:
    """The run's row and its record, read afresh from the database.

    With ``lock`` the run's row is locked until the transaction ends: ``SELECT ... FOR UPDATE``
    on PostgreSQL. SQLite ignores ``FOR UPDATE`` and its driver begins a transaction only at the
    first write, so there a no-op update of the row comes first: it takes the database's write
    lock, and what is read next cannot change before the commit (no lost update between the
    API process and the workers).
    """
    run, record, _rows = _load(db, run_id, lock=lock)
    return run, record


def _load(db: Session, run_id: str, *, lock: bool) -> tuple[Run, RunRecord, dict[str, RunStep]]:
    """:func:`load_run`, with the step rows it read (for :func:`save` to write to)."""
    if lock and db.get_bind().dialect.name == "sqlite":
        db.execute(update(Run).where(Run.id == run_id).values(state=Run.state))
    query = select(Run).where(Run.id == run_id).execution_options(populate_existing=True)
    run = db.scalar(query.with_for_update() if lock else query)
    if run is None:
        raise NotFound(f"There is no run {run_id!r}.")
    rows = _step_rows(db, run.id)
    steps = {name: step_record(row) for name, row in rows.items()}
    record = RunRecord(run.state, steps, _graph(db, run.pipeline_version_id))  # type: ignore[arg-type]  # only RunState values
    return run, record, rows


def save(
    db: Session,
    run: Run,
    outcome: Outcome,
    now: datetime | None = None,
    rows: Mapping[str, RunStep] | None = None,
) -> None:
    """Write the steps ``outcome`` changed and the run's state, then flush.

    ``now`` stamps the run's ``started_at`` / ``finished_at``; by default, the time of the
    outcome's latest event. ``rows`` are the run's step rows when the caller has them.
    """
    at = now or _latest_time(outcome)
    if outcome.changed:
        rows = rows if rows is not None else _step_rows(db, run.id)
        for name in outcome.changed:
            write_step(rows[name], outcome.run.steps[name])
    write_run(run, outcome.run, at)
    db.flush()


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
    run, record, rows = _load(db, run_id, lock=True)
    outcome = transition(record, *args, now.timestamp(), **options)
    if outcome.applied:
        save(db, run, outcome, now, rows)
    return outcome


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
    run, record, rows = _load(db, run_id, lock=True)
    at = now.timestamp()
    outcomes = [machine.plan(record, at, redeliver_after=resend)]
    silent = _silent_workers(db, record, now - timedelta(seconds=heartbeat_timeout))
    for name, step in record.steps.items():
        if step.state != "running":
            continue
        current = outcomes[-1].run
        timeout = float(rows[name].task.get("timeout", 3600))
        started = step.started_at if step.started_at is not None else at
        if at - started >= timeout:
            outcomes.append(machine.timed_out(current, name, step.attempt, timeout, at))
        elif step.worker in silent:
            outcomes.append(machine.lost(current, name, step.attempt, step.worker, at))
    effects: list[Effect] = []
    for outcome in outcomes:
        if outcome.applied:
            save(db, run, outcome, now, rows)
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


def _step_rows(db: Session, run_id: str) -> dict[str, RunStep]:
    query = (
        select(RunStep)
        .where(RunStep.run_id == run_id)
        .order_by(RunStep.name)
        .execution_options(populate_existing=True)
    )
    return {row.name: row for row in db.scalars(query)}


def _latest_time(outcome: Outcome) -> datetime:
    """When an outcome happened, read from its events; the clock when it has none."""
    moment = to_datetime(max((event.at for event in outcome.events), default=None))
    return moment or utcnow()
