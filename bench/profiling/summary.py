"""Where the time of profiled processes went, by package: ``python bench/profiling/summary.py
DIR`` after ``bench/runs.py --profile DIR``.

The profiles count CPU time by default; with ``BENCH_PROFILE_CLOCK=wall`` they count wall time,
and the waits of idle threads (locks, ``select``/``poll``, reading a pipe) are then left out
here. The percentages are what matters: cProfile itself makes Python code about 2-3 times slower.
"""

from __future__ import annotations

import pstats
import sys
from collections import defaultdict
from pathlib import Path

IDLE = (
    "acquire' of '_thread.lock",
    "acquire' of '_thread.RLock",
    "'poll' of 'select.poll",
    "'select' of 'select.epoll",
    "'poll' of 'select.epoll",
    "built-in method select.select",
    "'control' of 'select.kqueue",
    "method 'recv_bytes'",
    "built-in method posix.read",
    "built-in method time.sleep",
    "'wait' of '_thread",
)
PACKAGES = (
    "sqlalchemy",
    "psycopg",
    "pydantic",
    "jsonschema",
    "referencing",
    "fastapi",
    "starlette",
    "uvicorn",
    "anyio",
    "httptools",
    "websockets",
    "kombu",
    "celery",
    "billiard",
    "redis",
    "amqp",
    "datamill",
)


def package(file: str, name: str) -> str:
    if file == "~":
        if "sqlite3" in name:
            return "sqlite3 (C)"
        if "psycopg" in name or "pq" in name:
            return "psycopg"
        return "builtins (C)"
    for known in PACKAGES:
        if f"/{known}/" in file:
            return known
    if "/lib/python3" in file or file.startswith("<frozen"):
        return "stdlib"
    return "other"


def summarise(path: Path, calls_of: str) -> None:
    stats = pstats.Stats(str(path))
    totals: dict[str, float] = defaultdict(float)
    idle = 0.0
    counted = None
    for (file, _line, name), (_cc, ncalls, tottime, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        label = f"{file}:{name}"
        if any(marker in label for marker in IDLE):
            idle += tottime
            continue
        totals[package(file, name)] += tottime
        if name == calls_of:
            counted = ncalls
    busy = sum(totals.values())
    per = f" over {counted} calls of {calls_of}" if counted else ""
    print(f"\n{path.name}: {busy:.2f} s busy{per} ({idle:.1f} s idle waits left out)")
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1])[:12]:
        each = f"  {seconds / counted * 1000:7.2f} ms each" if counted else ""
        print(f"  {name:<16} {seconds:8.2f} s  {seconds / busy:6.1%}{each}")


def main() -> None:
    directory = Path(sys.argv[1])
    for path in sorted(directory.glob("serve-*.prof")):
        summarise(path, "submit_run")
    for path in sorted(directory.glob("attempts-*.prof")):
        summarise(path, "execute_attempt")


if __name__ == "__main__":
    main()
