"""The embedded DuckDB engine used for every read and every ingest in this process.

One in-memory database per process with a memory limit and a spill directory; each call takes its
own cursor, which DuckDB makes safe to use from the thread that took it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb


class Engine:
    def __init__(
        self,
        memory_limit: str,
        temp_dir: Path,
        threads: int | None = None,
        allowed_dirs: Sequence[Path] | None = None,
    ) -> None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": str(temp_dir),
            "enable_external_access": True,
        }
        if threads:
            config["threads"] = threads
        self._db = duckdb.connect(":memory:", config=config)
        if allowed_dirs is not None:
            self._confine(allowed_dirs)
        self._lock = threading.Lock()

    def _confine(self, allowed_dirs: Sequence[Path]) -> None:
        """Let SQL touch files only under ``allowed_dirs``, for good: defence in depth, should a
        path ever slip into a query."""
        listed = ", ".join("'" + str(d).replace("'", "''") + "'" for d in allowed_dirs)
        self._db.execute(f"SET allowed_directories = [{listed}]")
        self._db.execute("SET enable_external_access = false")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for the calling thread; close it (or use ``with``) when done."""
        with self._lock:
            return self._db.cursor()

    def close(self) -> None:
        self._db.close()
