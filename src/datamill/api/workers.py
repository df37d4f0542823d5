"""Workers: who serves which queues, what each runs now, and how many steps wait per queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from datamill.api.deps import ContextDep, CurrentUser, SessionDep
from datamill.api.params import Limit, Offset
from datamill.db.models import utcnow
from datamill.executors import queries
from datamill.schemas.workers import QueueDepth, RunningStep, WorkerPublic, WorkersReply

router = APIRouter(prefix="/workers", tags=["workers"])

StateParam = Annotated[
    queries.WorkerState | None,
    Query(description="Only workers in this state; default: up, or down or lost in the last hour."),
]


def _public(view: queries.WorkerView) -> WorkerPublic:
    worker = view.worker
    return WorkerPublic(
        id=worker.id,
        hostname=worker.hostname,
        pid=worker.pid,
        queues=[str(queue) for queue in worker.queues],
        state=view.state,
        started_at=worker.started_at,
        last_heartbeat_at=worker.last_heartbeat_at,
        running=[RunningStep.model_validate(step) for step in view.running],
    )


@router.get("", operation_id="list_workers", summary="List workers and queue depths")
def list_(
    user: CurrentUser,
    db: SessionDep,
    ctx: ContextDep,
    state: StateParam = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> WorkersReply:
    """Every signed-in user may see the workers, as on a Celery Flower dashboard; a member sees
    which of their own runs' steps each one runs, and only the attempt and start of others'."""
    now = utcnow()
    timeout = ctx.settings.heartbeat_timeout_seconds
    views, total = queries.list_workers(db, user, now, timeout, state, offset, limit)
    depths = queries.queue_depths(db, now, timeout)
    return WorkersReply(
        data=[_public(view) for view in views],
        count=total,
        queues=[QueueDepth(name=name, depth=depth) for name, depth in depths.items()],
    )
