"""What the benches share: the benchmark table, a served Datamill, and memory watching."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psutil

USER, PASSWORD = "bench", "bench-password-123"


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def generate_csv(path: Path, rows: int) -> None:
    """The benchmark table, written by DuckDB (seeded, so every run measures the same file)."""
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""
        COPY (
          SELECT i AS id,
                 CASE WHEN random() < 0.05 THEN NULL ELSE round(random() * 1000, 4) END AS val,
                 'category_' || (i * 7919 % 1000) AS cat,
                 TIMESTAMP '2020-01-01' + to_seconds(i * 3) AS ts,
                 'note ' || md5(i::VARCHAR)[:10] AS note
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()


def benchmark_table(work: Path, rows: int) -> Path:
    """The benchmark table as CSV in ``work``, generated on first use (``--keep`` keeps it)."""
    work.mkdir(parents=True, exist_ok=True)
    csv = work / f"bench-{rows}.csv"
    if not csv.exists():
        print(f"generating {rows:,} rows ...")
        generate_csv(csv, rows)
    return csv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RssWatcher(threading.Thread):
    """Samples a process tree's resident memory every 50 ms and keeps the peaks: of the whole
    tree, and of any one process below the root (a worker)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.worker_peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                children = self.process.children(recursive=True)
                sizes = [p.memory_info().rss for p in children]
                self.peak = max(self.peak, self.process.memory_info().rss + sum(sizes))
                self.worker_peak = max(self.worker_peak, *sizes, 0)
            except psutil.Error:
                pass
            time.sleep(0.05)


@contextmanager
def server(data_dir: Path, **settings: str) -> Iterator[tuple[str, RssWatcher]]:
    """``datamill serve`` on a free port with a user and token: ``url|token`` and a watcher of
    its (and its worker processes') memory. ``settings`` are DATAMILL_* variables."""
    env = {**os.environ, "DATAMILL_DATA_DIR": str(data_dir), **settings}
    datamill = [sys.executable, "-m", "datamill"]
    subprocess.run(
        [*datamill, "user", "create", USER, "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [*datamill, "token", "create", USER], text=True, env=env, check=True, capture_output=True
    ).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [*datamill, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/api/v1/health")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    watcher = RssWatcher(process.pid)
    watcher.start()
    try:
        yield url + "|" + token, watcher
    finally:
        watcher.stopped.set()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # requests still running: the figures are taken
            process.kill()
            process.wait()


def upload(client: httpx.Client, csv: Path) -> dict[str, Any]:
    with csv.open("rb") as handle:
        reply = client.post("/api/v1/datasets", files={"file": ("bench.csv", handle)}, timeout=None)
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result
