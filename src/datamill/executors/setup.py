"""Choosing and starting the executor a process uses, from its settings."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.events.bus import EventBus
from datamill.executors.base import Deliver, Executor, NoExecutor, deliverer
from datamill.executors.local import LocalPool


def open_executor(
    settings: Settings, sessions: sessionmaker[Session], bus: EventBus
) -> tuple[Executor, Deliver]:
    """The executor ``settings`` name, started, and the function carrying out run effects."""
    if settings.executor == "celery":
        from datamill.executors.celery import CeleryExecutor

        celery = CeleryExecutor(settings)
        return celery, deliverer(celery, bus)
    if settings.workers == 0:
        idle = NoExecutor()
        return idle, deliverer(idle, bus)
    pool = LocalPool(settings, sessions, bus, settings.workers)
    deliver = deliverer(pool, bus)
    pool.deliver = deliver
    pool.start()
    return pool, deliver
