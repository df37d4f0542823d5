"""The raw Celery baseline of ``bench/runs.py``: a no-op task on a worker with the options of
``datamill worker`` (late acks, prefetch 1, prefork, no result backend).

It tells that it finished the way Datamill's events reach a client: a Redis PUBLISH, which the
bench listens to. The worker reads its broker and Redis from the environment::

    BENCH_BROKER_URL=amqp://... BENCH_EVENTS_URL=redis://... BENCH_CHANNEL=... \\
        celery -A raw_celery worker -Q <queue> --concurrency 2 --pool prefork ...
"""

from __future__ import annotations

import os

import redis
from celery import Celery

from datamill.executors.celery import TRANSPORT_ONLY

NOOP = "bench.noop"


def make_app(broker_url: str) -> Celery:
    app = Celery("bench_raw", broker=broker_url, set_as_current=False)
    app.conf.update(
        **TRANSPORT_ONLY,
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=True,
    )
    app.task(name=NOOP, acks_late=True, ignore_result=True)(noop)
    return app


_redis: redis.Redis | None = None
"""This pool process's connection to the events Redis, made at its first task."""


def noop(token: str) -> None:
    """Do nothing, then publish ``token`` on the bench's channel."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["BENCH_EVENTS_URL"])
    _redis.publish(os.environ["BENCH_CHANNEL"], token)


app = make_app(os.environ.get("BENCH_BROKER_URL", "memory://"))
