"""The embedded DuckDB engine used for every read and every ingest in this process.

One in-memory database per process with a memory limit and a spill directory; each call takes its
own cursor, which DuckDB makes safe to use from the thread that took it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb


class Engine:
    def __init__(self, memory_limit: str, temp_dir: Path, threads: int | None = None) -> None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": str(temp_dir),
            "enable_external_access": True,
        }
        if threads:
            config["threads"] = threads
        self._db = duckdb.connect(":memory:", config=config)
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for the calling thread; close it (or use ``with``) when done."""
        with self._lock:
            return self._db.cursor()

    def close(self) -> None:
        self._db.close()
