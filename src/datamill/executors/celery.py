"""The Celery executor: step attempts travel as Celery messages to ``datamill worker`` processes.

Celery is transport only. The database is the truth (``DESIGN.md``), so:

- there is no result backend: a worker writes a step's state and outputs to the database and its
  events to the bus (the Redis result backend also stalls for seconds after a burst of tasks);
- one task, ``datamill.step(run_id, step, attempt)``, whose Celery task id is
  ``run:step:attempt``: a message sent twice, or redelivered after its worker died, is dropped
  by the worker when the ``started`` transition is not applied;
- late acknowledgement, requeue when a pool process is lost and a prefetch of one, so that a
  message is never lost with a worker and never waits behind a long step on a busy one.

The worker side (per pool process rows, heartbeats, the task's body) is in
``executors/worker.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery  # type: ignore[import-untyped]
from celery.utils.nodenames import default_nodename, host_format  # type: ignore[import-untyped]
from kombu.pools import ProducerPool
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from datamill.config import Settings
from datamill.db.engine import make_engine
from datamill.db.models import Worker

log = logging.getLogger("datamill.celery")

STEP_TASK = "datamill.step"
HOSTNAME = "datamill@%h"
CONNECT_TIMEOUT_SECONDS = 3.0
"""How long connecting to the broker may take before it counts as unreachable."""
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
"""A dispatch tries the broker three times within about a second, then gives up: the run
timer sends the attempt again later (the dispatch is recorded in the database)."""


class WorkerStartError(ConnectionError):
    """``datamill worker`` cannot start: the broker or the database is not usable."""


def task_id(run_id: str, step: str, attempt: int) -> str:
    """The Celery task id of one step attempt."""
    return f"{run_id}:{step}:{attempt}"


TRANSPORT_ONLY: dict[str, Any] = {
    "result_backend": None,
    "task_ignore_result": True,
    "task_store_errors_even_if_ignored": False,
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "task_serializer": "json",
    "accept_content": ["json"],
}
"""How Datamill uses Celery: transport only (no result backend), late acknowledgement, a lost
worker's message requeued, one message prefetched. The raw baseline of ``bench/runs.py`` uses
the same."""


def celery_app(settings: Settings) -> Celery:
    """The Celery application for ``settings.broker_url``, with the step task registered.

    Building it opens no connection.
    """
    if not settings.broker_url:
        raise ValueError("the Celery executor needs DATAMILL_BROKER_URL")
    from datamill.executors.worker import run_step

    app = Celery("datamill", broker=settings.broker_url, set_as_current=False)
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        transport_options["socket_connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    app.conf.update(
        **TRANSPORT_ONLY,
        result_serializer="json",
        task_default_queue="default",
        task_create_missing_queues=True,
        broker_connection_timeout=CONNECT_TIMEOUT_SECONDS,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_publish_retry=True,
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        # A broker outage must not cancel running steps: their messages are redelivered, the
        # copies are dropped (the steps are running), and the steps report to the database.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=True,
        # A pool process registers itself in the database before taking work.
        worker_proc_alive_timeout=30.0,
    )
    app.task(name=STEP_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(
        run_step
    )
    return app


class CeleryExecutor:
    """Sends step attempts to Celery queues and revokes them; see the module's docstring.

    Thread-safe: each dispatch takes a producer (and its broker connection) from a pool owned
    by this executor, released by :meth:`close`.
    """

    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        self.settings = settings
        self.app = app if app is not None else celery_app(settings)
        # Pools of its own: the app's pool is shared by every app on the same broker URL in this
        # process, so closing it would break the others.
        self._connections = self.app.connection_for_write().Pool(self.app.conf.broker_pool_limit)
        self._producers = ProducerPool(  # type: ignore[no-untyped-call]
            self._connections, limit=self._connections.limit
        )

    def dispatch(self, run_id: str, step: str, attempt: int, queue: str) -> None:
        """Publish the attempt to ``queue``; logged, not raised, when the broker is unreachable.

        The dispatch is recorded in the database before it is sent: the run timer sends it
        again if it never started.
        """
        try:
            with self._producers.acquire(block=True) as producer:  # type: ignore[no-untyped-call]
                self.app.send_task(
                    STEP_TASK,
                    args=(run_id, step, attempt),
                    task_id=task_id(run_id, step, attempt),
                    queue=queue,
                    producer=producer,
                )
        except Exception as problem:
            log.error(
                "could not send %s to queue %r on %s: %s; the run timer sends it again",
                task_id(run_id, step, attempt),
                queue,
                self._broker(),
                problem,
            )

    def terminate(self, run_id: str, step: str, attempt: int, worker: str) -> None:
        """Revoke the attempt: the pool process running it gets SIGTERM, which stops its
        command; a copy not started yet is dropped by whichever worker receives it."""
        try:
            with self._connections.acquire(block=True) as connection:
                self.app.control.revoke(
                    task_id(run_id, step, attempt),
                    terminate=True,
                    signal="SIGTERM",
                    connection=connection,
                )
        except Exception as problem:
            log.error(
                "could not revoke %s on %s: %s",
                task_id(run_id, step, attempt),
                self._broker(),
                problem,
            )

    def close(self) -> None:
        self._producers.force_close_all()  # type: ignore[no-untyped-call]
        self._connections.force_close_all()

    def _broker(self) -> str:
        """The broker's URL without its password, for messages."""
        return str(self.app.connection_for_write().as_uri())


def check_broker(app: Celery) -> None:
    """Raise :class:`WorkerStartError` unless the broker answers within a few seconds."""
    connection = app.connection_for_write()
    try:
        connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT_SECONDS)
    except Exception as problem:
        raise WorkerStartError(
            f"cannot reach the Celery broker at {connection.as_uri()}: {problem}"
        ) from None
    finally:
        connection.release()


def check_database(settings: Settings) -> None:
    """Raise :class:`WorkerStartError` unless the database is reachable and migrated.

    The engine is disposed of before the pool forks: each pool process opens its own.
    """
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            connection.execute(select(func.count()).select_from(Worker))
    except SQLAlchemyError as problem:
        reason = str(getattr(problem, "orig", None) or problem).strip()
        raise WorkerStartError(
            f"cannot use the database {engine.url.render_as_string(hide_password=True)} "
            f"(is it reachable, and migrated with `datamill db upgrade`?): {reason}"
        ) from None
    finally:
        engine.dispose()


def run_worker(
    settings: Settings, queues: Sequence[str], concurrency: int, hostname: str = HOSTNAME
) -> None:
    """Run a Celery worker in the foreground until it is stopped (SIGTERM: warm shutdown).

    ``concurrency`` prefork pool processes serve ``queues``; each registers its own worker row
    and heartbeats (``executors/worker.py``). Python tasks are imported by the pool processes,
    which inherit this process's ``sys.path``. Raises :class:`WorkerStartError` (an
    ``OSError``) when the broker or the database is not usable, and ``SystemExit`` when the
    worker ends in error.
    """
    from datamill.executors import worker

    names = [queue.strip() for queue in queues if queue.strip()]
    if not names:
        raise ValueError("a worker needs at least one queue to serve")
    if concurrency < 1:
        raise ValueError("a worker needs a concurrency of at least 1")
    app = celery_app(settings)
    check_broker(app)
    check_database(settings)
    worker.prepare(settings, names)
    celery_worker = app.Worker(
        hostname=host_format(default_nodename(hostname)),
        queues=names,
        concurrency=concurrency,
        pool_cls="prefork",
        loglevel="INFO",
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=True,
    )
    celery_worker.start()
    if celery_worker.exitcode:
        raise SystemExit(celery_worker.exitcode)
