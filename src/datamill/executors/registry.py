"""The workers table: who serves which queues, alive as long as heartbeats keep coming.

Every worker process (a local pool child, a Celery pool process) registers itself, beats, and is
marked ``down`` when it stops. The orchestrator's timer declares lost the running steps of a
worker whose heartbeats stopped (see ``runs/orchestrator.py``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from datamill.db.models import Worker, new_id
from datamill.events.messages import Message, iso

UP = "up"
DOWN = "down"


def register_worker(
    db: Session,
    queues: Sequence[str],
    now: datetime,
    pid: int | None = None,
    worker_id: str | None = None,
) -> Worker:
    """A new ``up`` worker row for process ``pid`` (this process by default) on this host."""
    worker = Worker(
        id=worker_id or new_id(),
        hostname=socket.gethostname(),
        pid=os.getpid() if pid is None else pid,
        queues=list(queues),
        started_at=now,
        last_heartbeat_at=now,
        state=UP,
    )
    db.add(worker)
    db.flush()
    return worker


def heartbeat(db: Session, worker_ids: Iterable[str], now: datetime) -> None:
    """Tell that the workers ``worker_ids`` are alive now."""
    ids = list(worker_ids)
    if ids:
        db.execute(update(Worker).where(Worker.id.in_(ids)).values(last_heartbeat_at=now))


def mark_down(db: Session, worker_ids: Iterable[str], now: datetime) -> None:
    """The workers ``worker_ids`` have stopped; their rows stay for the runs that name them."""
    ids = list(worker_ids)
    if ids:
        query = update(Worker).where(Worker.id.in_(ids)).values(state=DOWN, last_heartbeat_at=now)
        db.execute(query)


def worker_message(
    worker_id: str, pid: int, queues: Sequence[str], state: str, at: datetime
) -> Message:
    """The ``worker.updated`` event telling that a worker of this host came up or went down."""
    data = {"hostname": socket.gethostname(), "pid": pid, "queues": list(queues), "state": state}
    return Message("worker.updated", worker_id, iso(at.timestamp()), data)
