"""Run throughput and latency, each figure beside a raw baseline measured in the same run.

    .venv/bin/python bench/runs.py [--runs 1000] [--in-flight 16] [--only local|redis|rabbitmq]

Registers (as an admin) a one-step pipeline whose task is a Python no-op (``bench/noop_task.py``),
then submits runs over HTTP (``POST /api/v1/pipelines/bench-noop/runs``, through a minimal
kept-alive HTTP/1.1 client: the load generator shares the machine with what it measures) from a
closed loop of ``--in-flight`` clients, and listens on ``WS /api/v1/events`` for each run's
``run.updated`` event with the state ``succeeded``. Per run, the latency runs from sending the
submit request to receiving that event; the throughput is the number of runs over the time from
the first submit to the last success. A warm-up (``--warmup`` runs) is not counted. Three setups:

- local: SQLite in a fresh data directory, ``datamill serve --workers 2`` (one uvicorn process),
  beside a raw ``ProcessPoolExecutor(2)`` running the same no-op function;
- redis: PostgreSQL (a database made for the bench), ``DATAMILL_EXECUTOR=celery`` on a Redis
  broker, ``datamill worker --concurrency 2``, beside raw Celery ``send_task`` of a no-op task on
  the same broker, with the same worker options, that signals its end by a Redis PUBLISH
  (``bench/raw_celery.py``);
- rabbitmq: the same on RabbitMQ, events still through Redis (``DATAMILL_EVENTS_URL``).

The baselines keep the same number of tasks in flight. Then ``--serial`` runs go one at a time,
for the latency of a run that waits behind no other (with N in flight, a closed loop's latency is
about N / throughput whatever the cost of one run). Each setup also prints the CPU time one run
costs, by process (client, server, pool or workers, PostgreSQL): on a small machine that bounds
the throughput, whatever else is running on it.

Everything started (servers, workers, databases, queues, Redis keys, data directories) is removed
at the end, also after Ctrl-C or a failure. ``--profile DIR`` puts ``bench/profiling`` on the
import path of Datamill's processes: CPU profiles of the server and of each process running
attempts, and a log of slow SQL statements, land in DIR (``bench/profiling/summary.py DIR`` sums
them up by package).

A benchmark, not a test: it prints figures and ratios and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

import celery
import httpx
import noop_task
import psutil
import psycopg
import raw_celery
import redis
import redis.asyncio as aioredis
import reporting
from kombu import Connection
from reporting import pct
from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
WORK = HERE / ".data"
PIPELINE = "bench-noop"
USER = "bench-admin"
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway account in a throwaway data dir
WAIT_SECONDS = 120.0
"""How long one run may take before the bench gives up (the first ones wait for workers)."""
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
RABBITMQ = os.environ.get("BENCH_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")


class RunFailed(RuntimeError):
    """A run (or raw task) did not succeed: the figures would mean nothing."""


# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What one closed loop measured: each run's latency and the time from the first submit to
    the last completion."""

    latencies: list[float]
    seconds: float
    cpu: dict[str, float]
    """CPU seconds each part used meanwhile (client, server, workers, database...)."""

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        return pct(self.latencies, q)


def line(label: str, ours: float, base: float, unit: str = "ms", target: str = "") -> None:
    reporting.line(label, ours, base, unit, target, width=30)


def report(title: str, ours: list[Figures], base: list[Figures], targets: dict[str, str]) -> None:
    """The measure, then the latency of runs submitted one at a time (no queueing)."""
    _, loaded, serial = ours
    _, base_loaded, base_serial = base
    print(f"\n{title}")
    line("throughput", loaded.throughput, base_loaded.throughput, "runs/s", targets["throughput"])
    line("latency p50", loaded.pct(0.5), base_loaded.pct(0.5), target=targets.get("p50", ""))
    line("latency p99", loaded.pct(0.99), base_loaded.pct(0.99))
    line("latency max", max(loaded.latencies), max(base_loaded.latencies))
    line("one at a time: latency p50", serial.pct(0.5), base_serial.pct(0.5))
    line("one at a time: latency p99", serial.pct(0.99), base_serial.pct(0.99))
    line("one at a time: throughput", serial.throughput, base_serial.throughput, "runs/s")
    for label, figures in (("CPU per run", loaded), ("baseline", base_loaded)):
        runs = len(figures.latencies)
        parts = ", ".join(f"{part} {used / runs * 1000:.1f}" for part, used in figures.cpu.items())
        total = sum(figures.cpu.values()) / runs * 1000
        print(f"  {label:<30} {total:9.1f} ms     ({parts})")
    print(f"  load average now: {load()}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


Phases = list[tuple[int, int]]
"""``(runs, in flight)`` of each closed loop in turn: the warm-up, the measure, the serial one."""


def phases(args: argparse.Namespace) -> Phases:
    return [(args.warmup, args.in_flight), (args.runs, args.in_flight), (args.serial, 1)]


Span = tuple[float, float]
"""When one run was submitted and when its success was heard (``time.perf_counter``)."""


async def closed_loop(
    n: int, in_flight: int, one: Callable[[int], Awaitable[Span]], meter: CpuMeter
) -> Figures:
    """Run ``one(0..n-1)`` from ``in_flight`` clients, each starting its next run as soon as its
    last one ended."""
    before = meter.sample()
    spans: list[Span] = []
    numbers = iter(range(n))

    async def client() -> None:
        for number in numbers:
            spans.append(await one(number))

    await asyncio.gather(*(client() for _ in range(in_flight)))
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    return Figures([end - start for start, end in spans], last - first, meter.since(before))


class CpuMeter:
    """CPU time of the processes of each part of a setup, by label: on a machine of 2 cores,
    the CPU a run costs bounds the throughput whatever else runs."""

    def __init__(self) -> None:
        self.parts: dict[str, Callable[[], list[psutil.Process]]] = {
            "client": lambda: [psutil.Process()]
        }

    def tree(self, label: str, pid: int, descendants: str) -> None:
        """Count ``pid`` as ``label`` and all its descendants as ``descendants``."""
        self.parts[label] = lambda: [psutil.Process(pid)]
        self.parts[descendants] = lambda: psutil.Process(pid).children(recursive=True)

    def database(self, name: str) -> None:
        """Count the PostgreSQL backends serving the database ``name`` as ``database``."""

        def processes() -> list[psutil.Process]:
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                pids = [pid for (pid,) in conn.execute(query, (name,)).fetchall()]
            found = []
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    found.append(psutil.Process(pid))
            return found

        self.parts["database"] = processes

    def sample(self) -> dict[tuple[str, int], float]:
        seconds = {}
        for label, processes in self.parts.items():
            for process in processes():
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    seconds[label, process.pid] = times.user + times.system
        return seconds

    def since(self, before: dict[tuple[str, int], float]) -> dict[str, float]:
        used: dict[str, float] = {}
        for (label, pid), seconds in self.sample().items():
            used[label] = used.get(label, 0.0) + seconds - before.get((label, pid), 0.0)
        return used


class Completions:
    """Completion times by key (run id, token), whichever comes first: the key or its event."""

    def __init__(self) -> None:
        self._heard: dict[str, float | RunFailed] = {}
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def heard(self, key: str, failure: RunFailed | None = None) -> None:
        at = time.perf_counter()
        future = self._waiting.pop(key, None)
        if future is None:
            self._heard[key] = failure or at
        elif future.done():
            pass  # given up on already
        elif failure is not None:
            future.set_exception(failure)
        else:
            future.set_result(at)

    async def wait(self, key: str) -> float:
        heard = self._heard.pop(key, None)
        if isinstance(heard, RunFailed):
            raise heard
        if heard is not None:
            return heard
        future = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        try:
            return await asyncio.wait_for(future, WAIT_SECONDS)
        except TimeoutError:
            raise RunFailed(f"{key} did not finish within {WAIT_SECONDS:.0f} s") from None


# -- processes and cleanup -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    stack: ExitStack, argv: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own (so the whole tree can be ended), stopped when
    ``stack`` closes: SIGTERM to it, then SIGKILL to its group if anything is left."""
    output: IO[bytes] = log.open("wb")
    process = subprocess.Popen(
        argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"  ({argv[2:4]} did not stop within 20 s: killed)")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # what is left of its tree, if anything
        process.wait()
        output.close()

    stack.callback(stop)
    stack.callback(check_alive, process, argv, log)  # runs first: tells why a failure happened
    return process


def check_alive(process: subprocess.Popen[bytes], argv: list[str], log: Path) -> None:
    if process.poll() is not None:
        tail = log.read_text(errors="replace")[-3000:]
        print(f"\n{' '.join(argv[2:4])} exited with {process.returncode}; its output:\n{tail}")


def datamill(*args: str) -> list[str]:
    return [sys.executable, "-m", "datamill", *args]


def base_env(data_dir: Path, profile: Path | None, **settings: str) -> dict[str, str]:
    """The environment of Datamill's processes; with ``profile``, ``bench/profiling`` is on
    their import path and writes their profiles there."""
    paths = [str(HERE), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ)
    if profile is not None:
        paths.insert(0, str(HERE / "profiling"))
        env["BENCH_PROFILE_DIR"] = str(profile)
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    env["DATAMILL_DATA_DIR"] = str(data_dir)
    env.update({f"DATAMILL_{key.upper()}": value for key, value in settings.items()})
    return env


def fresh_dir(stack: ExitStack, name: str, keep: bool) -> Path:
    path = WORK / f"runs-{name}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    if not keep:
        stack.callback(shutil.rmtree, path, ignore_errors=True)
    return path


def fresh_database(stack: ExitStack) -> tuple[str, str]:
    """A PostgreSQL database made for this bench, dropped when ``stack`` closes."""
    name = f"bench_runs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def redis_keys_removed(stack: ExitStack, url: str) -> None:
    """Delete, when ``stack`` closes, every key of ``url``'s database made since now (queues,
    kombu bindings, unacked messages): the bench's database number is its own."""
    client = redis.Redis.from_url(url)
    before = set(client.scan_iter())

    def clean() -> None:
        made = set(client.scan_iter()) - before
        if made:
            client.delete(*made)
        client.close()

    stack.callback(clean)


def amqp_queues_removed(stack: ExitStack, url: str, queues: list[str]) -> None:
    """Delete the bench's queues and their exchanges from RabbitMQ when ``stack`` closes."""

    def clean() -> None:
        with Connection(url, connect_timeout=3) as conn:
            for name in queues:
                channel = conn.channel()
                with contextlib.suppress(Exception):
                    channel.queue_delete(name)
                channel = conn.channel()
                with contextlib.suppress(Exception):
                    channel.exchange_delete(name)

    stack.callback(clean)


# -- Datamill ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    pid: int


def serve_datamill(stack: ExitStack, env: dict[str, str], log_dir: Path, *serve: str) -> Server:
    """An admin and their token, then ``datamill serve`` on a free port, up."""
    subprocess.run(
        datamill("user", "create", USER, "--admin", "--password-stdin"),
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        datamill("token", "create", USER), text=True, env=env, check=True, capture_output=True
    ).stdout.strip()
    port = free_port()
    process = start(
        stack, datamill("serve", "--port", str(port), *serve), env, log_dir / "serve.log"
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            raise RunFailed(f"datamill serve exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                return Server(url, token, process.pid)
        time.sleep(0.1)
    raise RunFailed(f"datamill serve did not answer on {url} within 30 s")


def register_pipeline(server: Server, queue: str) -> None:
    """The no-op task (on ``queue``) and the one-step pipeline that runs it."""
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        task = {"name": "bench-noop", "kind": "python", "function": "noop_task:noop"}
        for path, spec in (
            ("/api/v1/tasks", {**task, "queue": queue}),
            ("/api/v1/pipelines", {"name": PIPELINE, "steps": {"noop": {"task": "bench-noop"}}}),
        ):
            reply = client.post(path, json=spec)
            if reply.status_code != 201:
                raise RunFailed(f"POST {path}: {reply.status_code} {reply.text}")


class KeptAlive:
    """A minimal HTTP/1.1 client over kept-alive connections, for the submissions.

    The load generator shares the machine with the server it measures: httpx spent about 1 ms
    of CPU per request, a quarter of a core at 200 runs/s taken from the server. This one writes
    the request bytes and reads the status and a ``Content-Length`` body, nothing more.
    """

    def __init__(self, url: str, token: str) -> None:
        address = url.removeprefix("http://")
        host, _, port = address.partition(":")
        self.host, self.port = host, int(port)
        self.token = token
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """The status and body of ``POST path`` with a JSON ``body``."""
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        if self._idle:
            connection = self._idle.pop()
            try:
                return await self._exchange(connection, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                connection[1].close()  # closed by the server while idle: nothing was read
        return await self._exchange(await self._open(), request)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    async def _exchange(
        self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> tuple[int, bytes]:
        reader, writer = connection
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        payload = await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection") == "close":
            writer.close()
        else:
            self._idle.append(connection)
        return status, payload

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def measure_datamill(server: Server, phases: Phases, meter: CpuMeter) -> list[Figures]:
    """Submit runs over HTTP from a closed loop; their ends come from the WebSocket."""
    completions = Completions()
    ws_url = server.url.replace("http://", "ws://") + "/api/v1/events?types=run.updated"
    headers = {"Authorization": f"Bearer {server.token}"}
    http = KeptAlive(server.url, server.token)
    submit = f"/api/v1/pipelines/{PIPELINE}/runs"
    async with connect(ws_url, additional_headers=headers, max_queue=None) as socket_:
        subscribed = json.loads(await socket_.recv())
        if subscribed.get("type") != "subscribed":
            raise RunFailed(f"the event stream began with {subscribed}")

        async def listen() -> None:
            async for text in socket_:
                message = json.loads(text)
                state = message["data"].get("state")
                if state == "succeeded":
                    completions.heard(message["id"])
                elif state in {"failed", "cancelled"}:
                    failure = RunFailed(f"run {message['id']} ended {state}: see the server log")
                    completions.heard(message["id"], failure)
            raise RunFailed(f"the event stream closed: {socket_.close_code} {socket_.close_reason}")

        async def one(_: int) -> Span:
            started = time.perf_counter()
            status, reply = await http.post(submit, b'{"params": {}}')
            if status != 202:
                raise RunFailed(f"submit: {status} {reply.decode(errors='replace')}")
            return started, await completions.wait(json.loads(reply)["run_id"])

        listener = asyncio.create_task(listen())
        try:
            return [await race(closed_loop(n, k, one, meter), listener) for n, k in phases]
        finally:
            http.close()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RunFailed):
                await listener


async def race(work: Awaitable[Figures], listener: asyncio.Task[None]) -> Figures:
    """``work``'s figures, unless the listener fails first."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.wait({task, listener}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
    if not task.done() or task.cancelled():
        listener.result()  # raises why it stopped
        raise RunFailed("the listener stopped")
    return task.result()


# -- baselines -------------------------------------------------------------------------------


async def measure_pool(phases: Phases) -> list[Figures]:
    meter = CpuMeter()
    meter.parts["pool"] = lambda: psutil.Process().children(recursive=True)
    """Raw ``ProcessPoolExecutor(2)`` running the no-op, the same number in flight."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(2) as pool:

        async def one(_: int) -> Span:
            started = time.perf_counter()
            await loop.run_in_executor(pool, noop_task.noop)
            return started, time.perf_counter()

        return [await closed_loop(n, k, one, meter) for n, k in phases]


def start_raw_worker(
    stack: ExitStack, broker: str, events: str, channel: str, queue: str, log_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "BENCH_BROKER_URL": broker,
        "BENCH_EVENTS_URL": events,
        "BENCH_CHANNEL": channel,
    }
    argv = [
        *(sys.executable, "-m", "celery", "-A", "raw_celery", "worker"),
        *("--queues", queue, "--concurrency", "2", "--pool", "prefork"),
        *("--hostname", f"bench-raw-{channel}@%h", "--loglevel", "INFO"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    return start(stack, argv, env, log_dir / "raw-worker.log")


async def measure_raw_celery(
    broker: str, events: str, channel: str, queue: str, phases: Phases, meter: CpuMeter
) -> list[Figures]:
    """Raw Celery: ``send_task`` of the no-op, its end heard on a Redis channel."""
    app = raw_celery.make_app(broker)
    completions = Completions()
    client = aioredis.Redis.from_url(events)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                completions.heard(message["data"].decode())

    async def one(number: int) -> Span:
        token = f"{channel}:{number}:{uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        app.send_task(raw_celery.NOOP, args=(token,), queue=queue)
        return started, await completions.wait(token)

    listener = asyncio.create_task(listen())
    try:
        return [await race(closed_loop(n, k, one, meter), listener) for n, k in phases]
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await pubsub.aclose()
        await client.aclose()
        app.close()


# -- the setups ------------------------------------------------------------------------------


def bench_local(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        data_dir = fresh_dir(stack, "local", args.keep)
        base = asyncio.run(measure_pool(phases(args)))
        env = base_env(data_dir, args.profile)
        server = serve_datamill(stack, env, data_dir, "--workers", "2")
        register_pipeline(server, "default")
        meter = CpuMeter()
        meter.tree("server", server.pid, "pool")
        ours = asyncio.run(measure_datamill(server, phases(args), meter))
        report(
            "Local pool (SQLite, `datamill serve --workers 2`) vs raw ProcessPoolExecutor(2)",
            ours,
            base,
            {"throughput": "(target >= 200 runs/s)", "p50": "(target <= 20 ms)"},
        )


def bench_celery(args: argparse.Namespace, broker_kind: str) -> None:
    tag = uuid.uuid4().hex[:8]
    events = f"{REDIS}/{args.redis_db}"
    broker = events if broker_kind == "redis" else RABBITMQ
    raw_queue, our_queue = f"bench-raw-{tag}", f"bench-runs-{tag}"
    with ExitStack() as stack:
        redis_keys_removed(stack, events)
        if broker_kind == "rabbitmq":
            amqp_queues_removed(stack, broker, [raw_queue, our_queue])
        data_dir = fresh_dir(stack, broker_kind, args.keep)
        with ExitStack() as raw:
            channel = f"bench-raw-{tag}"
            raw_worker = start_raw_worker(raw, broker, events, channel, raw_queue, data_dir)
            meter = CpuMeter()
            meter.tree("worker", raw_worker.pid, "worker pool")
            base = asyncio.run(
                measure_raw_celery(broker, events, channel, raw_queue, phases(args), meter)
            )
        database_url, database = fresh_database(stack)
        settings = {
            "database_url": database_url,
            "executor": "celery",
            "broker_url": broker,
            "events_url": events,
        }
        env = base_env(data_dir, args.profile, **settings)
        server = serve_datamill(stack, env, data_dir)
        worker = datamill("worker", "--concurrency", "2", "--queues", our_queue)
        worker_process = start(stack, worker, env, data_dir / "worker.log")
        register_pipeline(server, our_queue)
        meter = CpuMeter()
        meter.parts["server"] = lambda: [psutil.Process(server.pid)]
        meter.tree("worker", worker_process.pid, "worker pool")
        meter.database(database)
        ours = asyncio.run(measure_datamill(server, phases(args), meter))
        name = "Redis" if broker_kind == "redis" else "RabbitMQ"
        report(
            f"Celery on {name} (PostgreSQL, `datamill worker --concurrency 2`) vs raw Celery",
            ours,
            base,
            {"throughput": "(target >= 0.5x)"},
        )


def stop_on_signals() -> None:
    """SIGTERM ends the bench like Ctrl-C, through its cleanup; so does SIGINT even when the
    shell started the bench in the background (where SIGINT is ignored)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs measured per setup")
    parser.add_argument("--warmup", type=int, default=50, help="runs before, not counted")
    parser.add_argument("--in-flight", type=int, default=16, help="runs submitted and unfinished")
    parser.add_argument("--serial", type=int, default=100, help="runs then, one at a time")
    parser.add_argument("--only", choices=["local", "redis", "rabbitmq"], action="append")
    parser.add_argument("--redis-db", type=int, default=11, help="Redis database of the bench")
    parser.add_argument("--keep", action="store_true", help="keep data directories and logs")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile files of Datamill's server and workers here (bench/profiling)",
    )
    args = parser.parse_args()
    stop_on_signals()
    if args.profile is not None:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    setups: dict[str, Callable[[argparse.Namespace], Any]] = {
        "local": bench_local,
        "redis": lambda a: bench_celery(a, "redis"),
        "rabbitmq": lambda a: bench_celery(a, "rabbitmq"),
    }
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"Celery {celery.__version__}; load average {load()}"
    )
    print(
        f"{args.runs:,} runs of a one-step no-op pipeline per setup, {args.in_flight} in flight "
        f"(closed loop), after {args.warmup} warm-up runs; latency: submit to `succeeded` event"
    )
    for name in args.only or list(setups):
        try:
            setups[name](args)
        except KeyboardInterrupt:
            print("\ninterrupted: everything started was stopped and removed")
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
