"""Reading the workers for ``GET /api/v1/workers``: their state, what they run, queue depths.

A worker row says ``up`` until the worker marks itself down; one that died without doing so
(``kill -9``, a lost machine) is recognised by its stale heartbeat and shown as ``lost``, as the
timer that recovers its steps sees it.

Every member may see the workers, but not which runs of other members they serve: for a member,
a step attempt of a run they do not own is listed without its run id and step name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from datamill.db.models import Run, RunStep, User, Worker
from datamill.executors.registry import DOWN

WorkerState = Literal["up", "down", "lost"]
RECENT = timedelta(hours=1)
"""Workers down or lost for longer are left out of the default list."""
ALL_QUEUES = "*"


@dataclass(frozen=True)
class RunningStep:
    run_id: str | None
    step: str | None
    attempt: int
    started_at: datetime | None


@dataclass(frozen=True)
class WorkerView:
    worker: Worker
    state: WorkerState
    running: list[RunningStep] = field(default_factory=list)


def worker_state(worker: Worker, now: datetime, timeout_seconds: float) -> WorkerState:
    if worker.state == DOWN:
        return "down"
    if worker.last_heartbeat_at < now - timedelta(seconds=timeout_seconds):
        return "lost"
    return "up"


def _where(state: WorkerState | None, now: datetime, timeout_seconds: float) -> ColumnElement[bool]:
    stale = now - timedelta(seconds=timeout_seconds)
    alive = and_(Worker.state != DOWN, Worker.last_heartbeat_at >= stale)
    if state == "up":
        return alive
    if state == "lost":
        return and_(Worker.state != DOWN, Worker.last_heartbeat_at < stale)
    if state == "down":
        return Worker.state == DOWN
    return or_(alive, Worker.last_heartbeat_at >= now - RECENT)


def list_workers(
    db: Session,
    viewer: User,
    now: datetime,
    timeout_seconds: float,
    state: WorkerState | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[WorkerView], int]:
    """One page of workers in ``state`` (default: up, or down or lost within the last hour),
    newest first, each with the step attempts it runs; and how many there are in all."""
    where = _where(state, now, timeout_seconds)
    total = db.scalar(select(func.count()).select_from(Worker).where(where)) or 0
    query = select(Worker).where(where).order_by(Worker.started_at.desc(), Worker.id)
    workers = db.scalars(query.offset(offset).limit(limit)).all()
    running = running_steps(db, viewer, [worker.id for worker in workers])
    views = [
        WorkerView(w, worker_state(w, now, timeout_seconds), running.get(w.id, [])) for w in workers
    ]
    return views, total


def running_steps(
    db: Session, viewer: User, worker_ids: Sequence[str]
) -> dict[str, list[RunningStep]]:
    """The running step attempts of each of ``worker_ids``; those of runs ``viewer`` cannot see
    (a member's view of another member's run) without their run id and step name."""
    found: dict[str, list[RunningStep]] = defaultdict(list)
    if not worker_ids:
        return found
    query = (
        select(
            RunStep.worker_id,
            RunStep.run_id,
            RunStep.name,
            RunStep.attempt,
            RunStep.started_at,
            Run.owner_id,
        )
        .join(Run, Run.id == RunStep.run_id)
        .where(RunStep.worker_id.in_(worker_ids), RunStep.state == "running")
        .order_by(RunStep.started_at, RunStep.run_id, RunStep.name)
    )
    for worker_id, run_id, step, attempt, started_at, owner_id in db.execute(query):
        if viewer.is_admin or owner_id == viewer.id:
            found[str(worker_id)].append(RunningStep(run_id, step, attempt, started_at))
        else:
            found[str(worker_id)].append(RunningStep(None, None, attempt, started_at))
    return found


def queue_depths(db: Session, now: datetime, timeout_seconds: float) -> dict[str, int]:
    """Steps dispatched to each queue and not started yet; queues that live workers serve are
    listed too, with 0 when nothing waits."""
    waiting = (
        select(RunStep.queue, func.count())
        .where(RunStep.state == "queued", RunStep.queued_at.is_not(None))
        .group_by(RunStep.queue)
    )
    depths: dict[str, int] = {queue: count for queue, count in db.execute(waiting)}
    served = db.scalars(select(Worker.queues).where(_where("up", now, timeout_seconds)))
    for queues in served:
        for queue in queues:
            if queue != ALL_QUEUES:
                depths.setdefault(str(queue), 0)
    return dict(sorted(depths.items()))
