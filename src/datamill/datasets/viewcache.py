"""Materialised grid views on disk: one Parquet file per (revision, view), bounded by bytes, LRU.

Sorting or filtering ten million rows takes seconds; slicing a page out of a file that is already
in view order takes milliseconds. So the first request of a new view is answered directly and
starts a build here, in one background thread (one build at a time, so a build never takes both
cores from the requests being answered); later requests wait for that build and then read pages
from its file.

Files are written atomically (``atomic_target``), named by a hash of the view's key, and adopted on
start so a restart keeps them. A file in use is pinned and never deleted under its reader; the
least recently used unpinned files go first when the total passes the budget. A view whose file
alone is larger than the budget is remembered and answered without a cache from then on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from datamill.storage.files import atomic_target

log = logging.getLogger(__name__)

Build = Callable[[Path], None]

_PREFIX = "view-"
_SUFFIX = ".parquet"
_STALE_TEMP_SECONDS = 3600


@dataclass
class _Entry:
    path: Path
    future: Future[None]
    size: int = 0
    pins: int = 0
    ready: bool = False


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


class ViewCache:
    """Files of materialised views under ``directory``, at most ``max_bytes`` in total."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._too_big: set[str] = set()
        self._total = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        if max_bytes > 0:
            directory.mkdir(parents=True, exist_ok=True)
            self._adopt_files()

    def start(self, key: str, build: Build) -> Future[None] | None:
        """The build of ``key``, scheduled now unless it exists; None when it cannot be cached."""
        name = self._name(key)
        with self._lock:
            if self._closed or self._max_bytes <= 0 or name in self._too_big:
                return None
            entry = self._entries.get(name)
            if entry is not None:
                self._entries.move_to_end(name)
                return entry.future
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="datamill-view")
            entry = _Entry(self._dir / name, _done())
            self._entries[name] = entry
            entry.future = self._executor.submit(self._build, name, entry, build)
            return entry.future

    def pending(self, key: str) -> Future[None] | None:
        """The build of ``key`` if one exists (finished or not), without starting one."""
        with self._lock:
            entry = self._entries.get(self._name(key))
            return None if entry is None else entry.future

    @contextmanager
    def pinned(self, key: str) -> Iterator[Path | None]:
        """The finished file of ``key``, safe from eviction inside the block; None if none."""
        name = self._name(key)
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None and entry.ready:
                entry.pins += 1
                self._entries.move_to_end(name)
            else:
                entry = None
        try:
            yield None if entry is None else entry.path
        finally:
            if entry is not None:
                with self._lock:
                    entry.pins -= 1
                    self._evict()

    def discard(self, key: str) -> None:
        """Forget ``key`` (its file vanished or is unreadable) so the next request rebuilds it."""
        with self._lock:
            entry = self._entries.pop(self._name(key), None)
            if entry is not None and entry.ready:
                self._total -= entry.size
                entry.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Cancel queued builds and wait for the running one (interrupt it first to be quick)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _name(key: str) -> str:
        return _PREFIX + hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX

    def _build(self, name: str, entry: _Entry, build: Build) -> None:
        """Run on the cache's thread: write the file atomically, then account for it."""
        started = time.perf_counter()
        try:
            with atomic_target(entry.path) as temp:
                build(temp)
            size = entry.path.stat().st_size
        except BaseException:
            with self._lock:
                if self._entries.get(name) is entry:
                    del self._entries[name]
                closing = self._closed
            if not closing:
                log.warning("could not materialise view %s", name, exc_info=True)
            raise
        log.debug("materialised %s (%d bytes) in %.2fs", name, size, time.perf_counter() - started)
        with self._lock:
            entry.size, entry.ready = size, True
            self._total += size
            if size > self._max_bytes:
                self._too_big.add(name)
            self._evict()

    def _evict(self) -> None:
        """Delete least recently used unpinned files until the total fits (lock held)."""
        for name in list(self._entries):
            if self._total <= self._max_bytes:
                return
            entry = self._entries[name]
            if entry.ready and entry.pins == 0:
                del self._entries[name]
                self._total -= entry.size
                entry.path.unlink(missing_ok=True)

    def _adopt_files(self) -> None:
        """Take over the files a previous run left, oldest first; drop abandoned temp files."""
        now = time.time()
        for temp in self._dir.glob(".*.tmp"):
            with suppress(OSError):
                if now - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                    temp.unlink()
        found = []
        for path in self._dir.glob(f"{_PREFIX}*{_SUFFIX}"):
            with suppress(OSError):
                stat = path.stat()
                found.append((stat.st_mtime, path, stat.st_size))
        for _, path, size in sorted(found):
            self._entries[path.name] = _Entry(path, _done(), size=size, ready=True)
            self._total += size
        with self._lock:
            self._evict()
