"""The Celery executor and `datamill worker`: a real worker process on Redis and on RabbitMQ.

PostgreSQL only: a Celery worker's pool processes and the test process share the test's schema.
Each test starts its own worker serving a queue of its own, so that no stale message of another
run can reach it, and deletes the queue afterwards. Under ``CI=true`` an unreachable broker fails
the tests instead of skipping them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pyarrow.parquet as pq
import pytest
import redis
from kombu import Connection, Exchange, Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions
from datamill.datasets.revisions import commit_new_dataset
from datamill.db.engine import make_engine, make_session_factory
from datamill.db.migrate import upgrade
from datamill.db.models import Dataset, DatasetStep, Revision, RunStep, User, Worker, utcnow
from datamill.events.bus import MemoryBus
from datamill.executors.base import deliverer
from datamill.executors.celery import CeleryExecutor, WorkerStartError, run_worker, task_id
from datamill.executors.registry import DOWN, UP
from datamill.operations.submission import apply_operations
from datamill.runs import machine
from datamill.runs.effects import Effect
from datamill.runs.orchestrator import apply
from datamill.runs.timer import RunTimer
from tests.fixtures.db import PG_DSN, make_settings
from tests.fixtures.workers import (
    EXAMPLES,
    REPO,
    TEXT_STATS,
    alive,
    byte_count,
    count_lines,
    finished,
    normalise,
    one_step,
    steps_of,
    wait_for,
)
from tests.fixtures.workers import submit as submit_run

BROKERS = {
    "redis": os.environ.get("DATAMILL_TEST_REDIS", "redis://127.0.0.1:6379/5"),
    "rabbitmq": os.environ.get("DATAMILL_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//"),
}
CONCURRENCY = 2


def _unreachable(url: str) -> str | None:
    try:
        if url.startswith("redis"):
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        else:
            with Connection(url, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
    except Exception as problem:
        return str(problem).strip() or type(problem).__name__
    return None


@pytest.fixture(scope="module", params=sorted(BROKERS))
def broker_url(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    problem = _unreachable(url)
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{request.param} is required under CI=true and is not reachable: {problem}"
            )
        pytest.skip(f"{request.param} not reachable: {problem}")
    return url


@dataclass
class Cluster:
    """A PostgreSQL schema, a Celery worker serving a queue of its own, and a sender."""

    settings: Settings
    sessions: sessionmaker[Session]
    queue: str
    executor: CeleryExecutor
    worker: subprocess.Popen[bytes]
    log: Path
    """The worker's output."""

    def deliver(self, run_id: str, effects: Sequence[Effect]) -> None:
        deliverer(self.executor, MemoryBus())(run_id, effects)


@pytest.fixture(scope="module")
def cluster(
    postgres_ready: None, broker_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """One worker for the tests of a broker: starting one takes seconds."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = make_settings(
        tmp_path_factory.mktemp("celery") / "data",
        f"{base}?options=-csearch_path%3D{schema}",
        executor="celery",
        broker_url=broker_url,
        heartbeat_seconds=0.5,
        heartbeat_timeout_seconds=3.0,
        tick_seconds=0.5,
    )
    engine = make_engine(settings)
    upgrade(settings, engine)
    sessions = make_session_factory(engine)
    executor = CeleryExecutor(settings)
    with serving_worker(settings, sessions) as (worker, queue, log):
        yield Cluster(settings, sessions, queue, executor, worker, log)
    executor.close()
    engine.dispose()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def serving_worker(
    settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """``run_worker`` in a process of its own serving a new queue, up once each pool process
    registered itself; stopped (warm shutdown) and its queue deleted afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(EXAMPLES)]),
        "DATAMILL_DATA_DIR": str(settings.data_dir),
        "DATAMILL_DATABASE_URL": settings.resolved_database_url,
        "DATAMILL_SECRET_KEY": settings.resolved_secret_key(),
        "DATAMILL_EXECUTOR": "celery",
        "DATAMILL_BROKER_URL": str(settings.broker_url),
        "DATAMILL_HEARTBEAT_SECONDS": str(settings.heartbeat_seconds),
    }
    code = (
        "from datamill.config import Settings\n"
        "from datamill.executors.celery import run_worker\n"
        f"run_worker(Settings(), [{queue!r}], {CONCURRENCY}, hostname={queue + '@%h'!r})\n"
    )
    log = settings.data_dir.parent / f"{queue}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=out, stderr=out)
    try:
        wait_for(
            lambda: process.poll() is not None or len(workers_up(sessions, queue)) == CONCURRENCY,
            "the worker's pool processes to register",
        )
        if process.poll() is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{log.read_text()}")
        yield process, queue, log
    finally:
        # A cold shutdown when a test did not stop the worker: nothing runs any more, and a warm
        # one takes seconds on RabbitMQ.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        delete_queue(str(settings.broker_url), queue)
        sys.stderr.write(f"--- worker log ---\n{log.read_text()}")


def delete_queue(broker_url: str, name: str) -> None:
    """Delete the queue ``name`` and the exchange Celery made for it, with their messages."""
    with Connection(broker_url) as connection:
        # Declared first: kombu's Redis transport deletes only the bindings its channel knows.
        queue = Queue(name, Exchange(name, "direct"), routing_key=name)(connection.default_channel)
        queue.declare()
        queue.delete()
        queue.exchange.delete()


@pytest.fixture
def owner(cluster: Cluster) -> User:
    with cluster.sessions() as db:
        user = create_user(db, f"owner-{uuid.uuid4().hex[:8]}", "password-123")
        db.commit()
        return user


def workers_up(sessions: sessionmaker[Session], queue: str) -> list[Worker]:
    with sessions() as db:
        rows = db.scalars(select(Worker).where(Worker.state == UP))
        return [row for row in rows if row.queues == [queue]]


def submit(
    cluster: Cluster,
    owner: User,
    tasks: list[dict[str, Any]],
    pipeline: str,
    inputs: dict[str, Any] | None = None,
) -> str:
    return submit_run(cluster.sessions, cluster.deliver, owner, tasks, pipeline, inputs)


def running_on(sessions: sessionmaker[Session], run_id: str, step: str) -> Worker:
    """The worker row of the pool process running ``step``, once it runs."""

    def worker_of_step() -> Worker | None:
        with sessions() as db:
            row = db.scalar(select(RunStep).where(RunStep.run_id == run_id, RunStep.name == step))
            if row is None or row.state != "running" or row.worker_id is None:
                return None
            return db.get(Worker, row.worker_id)

    return wait_for(worker_of_step, f"step {step} to run")  # type: ignore[no-any-return]


def test_a_python_a_bash_and_a_c_step_run_on_celery_workers(
    cluster: Cluster, owner: User, tmp_path: Path
) -> None:
    text = cluster.settings.data_dir / "uploads" / "text.txt"
    text.parent.mkdir(parents=True)
    text.write_text("  alpha \n\nbeta\n gamma\n", encoding="utf-8")
    queue = cluster.queue
    tasks = [normalise(queue), count_lines(queue), byte_count(tmp_path, queue)]
    run_id = submit(cluster, owner, tasks, TEXT_STATS, {"text": "uploads/text.txt"})

    run = finished(cluster.sessions, run_id)

    assert (run.state, run.error) == ("succeeded", None)
    steps = steps_of(cluster.sessions, run_id)
    assert steps["normalise"].outputs["lines"] == 3
    normalised = cluster.settings.data_dir / steps["normalise"].outputs["text"]
    assert normalised.read_text() == "ALPHA\nBETA\nGAMMA\n"
    assert steps["count"].outputs == {"count": 3}
    assert steps["measure"].outputs == {"size": {"label": "size", "bytes": 17}}
    pool = {row.id for row in workers_up(cluster.sessions, cluster.queue)}
    assert {step.worker_id for step in steps.values()} <= pool


def test_cancelling_a_run_revokes_its_step_and_kills_the_command(
    cluster: Cluster, owner: User
) -> None:
    task = {"name": "sleepy", "kind": "command", "command": ["sleep", "30"], "queue": cluster.queue}
    run_id = submit(cluster, owner, [task], one_step("sleepy"))
    running = running_on(cluster.sessions, run_id, "only")
    workdir = cluster.settings.data_dir / "work" / run_id / "only" / "1"
    command = wait_for(lambda: _sleep_in(workdir), "the command to start")

    with cluster.sessions() as db:
        outcome = apply(db, run_id, machine.cancel, now=utcnow())
        db.commit()
    cluster.deliver(run_id, outcome.effects)

    assert finished(cluster.sessions, run_id).state == "cancelled"
    wait_for(lambda: not alive(command), "the command to be killed", deadline=5)
    # The revoked pool process leaves (marking itself down) and a fresh one takes its place.
    wait_for(
        lambda: (
            len(up := workers_up(cluster.sessions, cluster.queue)) == CONCURRENCY
            and running.id not in {row.id for row in up}
        ),
        "a fresh pool process",
        deadline=15,
    )
    with cluster.sessions() as db:
        assert db.get(Worker, running.id).state == DOWN  # type: ignore[union-attr]


def test_a_pool_process_killed_in_the_middle_of_a_step_does_not_lose_the_run(
    cluster: Cluster, owner: User
) -> None:
    seconds = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    task = {
        "name": "slow-once",
        "kind": "python",
        "function": "tests.fixtures.task_functions:slow_once",
        "params": seconds,
        "outputs": {"attempt": {"kind": "value"}},
        "retries": 1,
        "queue": cluster.queue,
    }
    run_id = submit(cluster, owner, [task], one_step("slow-once", {"seconds": 30}))
    victim = running_on(cluster.sessions, run_id, "only")
    marker = cluster.settings.data_dir / "work" / run_id / "only" / "1" / "started"
    wait_for(marker.is_file, "the first attempt to begin")
    assert int(marker.read_text()) == victim.pid

    os.kill(victim.pid, signal.SIGKILL)
    # Celery requeues the message of the killed process and delivers it again: its copy must
    # run nothing (the attempt is running, as far as the database knows).
    first = f"datamill.step[{task_id(run_id, 'only', 1)}]"
    wait_for(
        lambda: (
            (out := cluster.log.read_text()).count(f"{first} received") == 2
            and f"{first} succeeded" in out
        ),
        "Celery to redeliver the message of the killed process, and the copy to be dropped",
    )
    timer = RunTimer(cluster.sessions, cluster.deliver, cluster.settings)
    timer.start()
    try:
        run = finished(cluster.sessions, run_id)
    finally:
        timer.close()

    assert (run.state, run.error) == ("succeeded", None)
    step = steps_of(cluster.sessions, run_id)["only"]
    assert (step.attempt, step.outputs) == (2, {"attempt": 2})
    assert step.worker_id != victim.id
    assert _silent(cluster.sessions, victim.id, cluster.settings)
    assert int(marker.read_text()) == victim.pid  # the function ran once in attempt 1


def test_a_step_that_times_out_on_a_worker_fails_without_revoking_its_process(
    cluster: Cluster, owner: User
) -> None:
    task = {
        "name": "too-slow",
        "kind": "command",
        "command": ["sleep", "30"],
        "timeout": 1,
        "queue": cluster.queue,
    }
    run_id = submit(cluster, owner, [task], one_step("too-slow"))
    running = running_on(cluster.sessions, run_id, "only")

    run = finished(cluster.sessions, run_id)

    assert (run.state, steps_of(cluster.sessions, run_id)["only"].error) == (
        "failed",
        "timed out after 1 s",
    )
    assert f"Terminating {task_id(run_id, 'only', 1)}" not in cluster.log.read_text()
    assert running.id in {row.id for row in workers_up(cluster.sessions, cluster.queue)}


def test_a_message_for_a_run_that_no_longer_exists_is_dropped(cluster: Cluster) -> None:
    pool = {row.id for row in workers_up(cluster.sessions, cluster.queue)}
    missing = str(uuid.uuid4())
    done = f"datamill.step[{task_id(missing, 'only', 1)}] succeeded"

    cluster.executor.dispatch(missing, "only", 1, cluster.queue)

    wait_for(lambda: done in cluster.log.read_text(), "the message to be dropped")
    assert f"run {missing} no longer exists" in cluster.log.read_text()
    assert {row.id for row in workers_up(cluster.sessions, cluster.queue)} == pool


@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)  # the same with any broker
def test_a_worker_that_stops_marks_its_pool_processes_down(cluster: Cluster) -> None:
    with serving_worker(cluster.settings, cluster.sessions) as (worker, queue, _log):
        ids = [row.id for row in workers_up(cluster.sessions, queue)]

        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)

    with cluster.sessions() as db:
        states = {row.state for row in db.scalars(select(Worker).where(Worker.id.in_(ids)))}
    assert (len(ids), worker.returncode, states) == (CONCURRENCY, 0, {DOWN})


def test_a_dispatch_to_an_unreachable_broker_gives_up_quickly_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for url in ("redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"):
        settings = make_settings(tmp_path, None, executor="celery", broker_url=url)
        celery = CeleryExecutor(settings)
        began = time.monotonic()
        celery.dispatch("run", "step", 1, "default")
        elapsed = time.monotonic() - began
        celery.close()
        assert elapsed < 10
        assert f"could not send run:step:1 to queue 'default' on {url.split('//')[0]}" in (
            caplog.text
        )


def test_a_worker_without_a_broker_stops_at_once_naming_it(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, None, executor="celery", broker_url="amqp://guest:secret@127.0.0.1:1//"
    )
    began = time.monotonic()

    with pytest.raises(WorkerStartError, match=r"cannot reach the Celery broker at amqp://") as e:
        run_worker(settings, ["default"], 1)

    assert time.monotonic() - began < 10
    assert "secret" not in str(e.value)


def test_a_worker_on_an_unmigrated_database_stops_at_once_saying_so(
    broker_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, None, executor="celery", broker_url=broker_url)

    with pytest.raises(WorkerStartError, match=r"migrated with `datamill db upgrade`"):
        run_worker(settings, ["default"], 1)


def _sleep_in(workdir: Path) -> int | None:
    """The pid of the ``sleep 30`` running in ``workdir``, if any."""
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.info["cmdline"] == ["sleep", "30"] and Path(process.cwd()) == workdir:
                return process.pid
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def _silent(sessions: sessionmaker[Session], worker_id: str, settings: Settings) -> bool:
    with sessions() as db:
        row = db.get(Worker, worker_id)
        assert row is not None
        age = (utcnow() - row.last_heartbeat_at).total_seconds()
        return age >= settings.heartbeat_timeout_seconds


def test_a_recipe_of_operations_runs_on_celery_and_lands_one_revision_per_step(
    cluster: Cluster, owner: User, tmp_path: Path
) -> None:
    raw = tmp_path / "prices.csv"
    raw.write_text("city,price\noslo,3\nrome,\noslo,3\n", encoding="utf-8")
    settings = cluster.settings.model_copy(update={"operations_queue": cluster.queue})
    with cluster.sessions() as db:
        engine = Engine("256MB", tmp_path / "duck")
        dataset, _, _ = commit_new_dataset(
            db, settings, engine, owner, raw, "prices.csv", "prices", IngestOptions()
        )
        engine.close()
        steps = [
            ("fill-constant", {"column": "price", "value": 0}),
            ("drop-duplicates", {}),
            ("change-case", {"columns": ["city"], "case": "title"}),
        ]
        run_id, effects = apply_operations(db, settings, dataset.id, owner.id, steps, utcnow())
        db.commit()
    cluster.deliver(run_id, effects)

    run = finished(cluster.sessions, run_id)

    assert (run.state, run.error) == ("succeeded", None)
    with cluster.sessions() as db:
        stored = db.get(Dataset, dataset.id)
        assert stored is not None
        head = db.get(Revision, stored.head_revision_id)
        assert head is not None and head.number == 4 and head.row_count == 2
        positions = db.scalars(
            select(DatasetStep.position).where(DatasetStep.dataset_id == dataset.id)
        ).all()
        assert sorted(positions) == [1, 2, 3]
    table = pq.read_table(cluster.settings.revisions_dir / head.path).to_pylist()
    assert table == [{"city": "Oslo", "price": 3}, {"city": "Rome", "price": 0}]
