"""Who may receive which event: the rules of the REST API, applied to the event stream.

Run and step events (and step logs) go to the run's owner and to admins; ``dataset.revision``
to whoever can read the dataset; ``worker.updated`` to every signed-in user. A run's owner never
changes, so it is looked up once per process and kept (:class:`RunOwners`): a burst of step
events costs one query per run, not one per event and subscriber. Dataset sharing does change,
and revisions are rare, so that is asked each time.
"""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth import permissions
from datamill.caching import Lru
from datamill.db.models import Dataset, Run, User
from datamill.events.filters import DATASET_TYPES, RUN_TYPES, WORKER_TYPES
from datamill.events.messages import Message

OWNERS_KEPT = 100_000
"""Run owners remembered (about 100 bytes each); the least recently used are forgotten."""


class RunOwners:
    """The owner of each run, read from the database once and then remembered."""

    def __init__(self, sessions: sessionmaker[Session], size: int = OWNERS_KEPT) -> None:
        self.sessions = sessions
        self._owners: Lru[str, str] = Lru(size)
        self.lookups = 0
        """Database lookups made so far (what the cache is there to keep low)."""

    def cached(self, run_id: str) -> str | None:
        return self._owners.get(run_id)

    def lookup(self, run_id: str) -> str | None:
        """The owner of ``run_id`` from the database (None for no such run); blocking."""
        owner = self.cached(run_id)
        if owner is not None:
            return owner
        with self.sessions() as db:
            owner = db.scalar(select(Run.owner_id).where(Run.id == run_id))
        self.lookups += 1
        if owner is not None:  # a missing run is not remembered: it may be committed soon
            self._owners.put(run_id, owner)
        return owner

    async def owner(self, run_id: str) -> str | None:
        """:meth:`lookup` without blocking the event loop when the answer is not cached."""
        owner = self.cached(run_id)
        if owner is not None:
            return owner
        return await anyio.to_thread.run_sync(self.lookup, run_id)


async def may_see_run(user: User, run_id: str, owners: RunOwners) -> bool:
    return user.is_admin or await owners.owner(run_id) == user.id


def can_read_dataset(sessions: sessionmaker[Session], user: User, dataset_id: str) -> bool:
    with sessions() as db:
        dataset = db.get(Dataset, dataset_id)
        return dataset is not None and permissions.can_read(user, dataset)


async def may_see(
    user: User, message: Message, owners: RunOwners, sessions: sessionmaker[Session]
) -> bool:
    """Whether ``user`` may receive ``message``; event types nobody declared go to admins only."""
    if message.type in WORKER_TYPES:
        return True
    if message.type in RUN_TYPES:
        return await may_see_run(user, message.id, owners)
    if message.type in DATASET_TYPES:
        if user.is_admin:
            return True
        return await anyio.to_thread.run_sync(can_read_dataset, sessions, user, message.id)
    return user.is_admin
