"""Materialised grid views on disk: one Parquet file per (revision, view), bounded by bytes, LRU.

Sorting or filtering ten million rows takes seconds; slicing a page out of a file that is already
in view order takes milliseconds. So the first request of a new view is answered directly and
starts a build here, in one background thread (one build at a time, so a build never takes both
cores from the requests being answered); later requests wait for that build and then read pages
from its file. At most ``MAX_PENDING`` builds wait for their turn: a new one pushes out the oldest
waiting one (each keystroke of a search is a new view, and only the latest ones matter), whose
waiters then answer directly.

Files are written atomically (``atomic_target``), named by a hash of the view's key, each with a
JSON sidecar naming the revision file it was made from, and adopted on start so a restart keeps
them, unless that revision file is gone (or the sidecar is). ``forget`` drops every view of a
revision file. A file in use is pinned and never deleted under its reader; the least recently used
unpinned files go first when the total passes the budget. A view whose file alone is larger than
the budget is deleted at once, without evicting anything, and answered without a cache from then
on.
"""

from __future__ import annotations

import hashlib
import json
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

MAX_PENDING = 4
_PREFIX = "view-"
_SUFFIX = ".parquet"
_SIDECAR = ".json"
_STALE_TEMP_SECONDS = 3600
_MAX_TOO_BIG = 10_000  # names of views too big to cache, remembered (most recent first)


@dataclass
class _Entry:
    path: Path
    source: str  # the revision file the view is made from
    future: Future[None]
    size: int = 0
    pins: int = 0
    ready: bool = False
    dropped: bool = False  # no longer in the cache: its file goes once nothing uses it


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


def _sidecar(path: Path) -> Path:
    return path.with_suffix(_SIDECAR)


class ViewCache:
    """Files of materialised views under ``directory``, at most ``max_bytes`` in total."""

    def __init__(self, directory: Path, max_bytes: int, max_pending: int = MAX_PENDING) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._max_pending = max_pending
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._queued: OrderedDict[str, _Entry] = OrderedDict()  # builds not started, oldest first
        self._too_big: OrderedDict[str, None] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        if max_bytes > 0:
            directory.mkdir(parents=True, exist_ok=True)
            self._adopt_files()

    def start(self, key: str, source: Path, build: Build) -> Future[None] | None:
        """The build of ``key`` (a view of the file ``source``), scheduled now unless it exists;
        None when it cannot be cached. A future of a build pushed out of the queue is cancelled."""
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
            entry = _Entry(self._dir / name, str(source), _done())
            self._entries[name] = self._queued[name] = entry
            entry.future = self._executor.submit(self._build, name, entry, build)
            while len(self._queued) > self._max_pending:
                self._drop(*next(iter(self._queued.items())))  # the oldest waiting build
            return entry.future

    def pending(self, key: str) -> Future[None] | None:
        """The build of ``key`` if one exists (finished or not), without starting one."""
        with self._lock:
            entry = self._entries.get(self._name(key))
            return None if entry is None else entry.future

    def cancel(self, key: str) -> bool:
        """Drop the build of ``key`` if it has not started yet; True when it was dropped."""
        name = self._name(key)
        with self._lock:
            entry = self._queued.get(name)
            if entry is not None:
                self._drop(name, entry)  # a build that starts meanwhile sees it and returns
            return entry is not None

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
                    if entry.dropped and entry.pins == 0:
                        self._remove_files(name)
                    self._evict()

    def discard(self, key: str) -> None:
        """Forget ``key`` (its file vanished or is unreadable) so the next request rebuilds it."""
        name = self._name(key)
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                self._drop(name, entry)

    def forget(self, source: Path) -> None:
        """Drop every view made from the file ``source``: queued builds are cancelled, files
        deleted (a file being read once its readers are done, a running build's when it ends)."""
        wanted = str(source)
        with self._lock:
            for name, entry in list(self._entries.items()):
                if entry.source == wanted:
                    self._drop(name, entry)

    def close(self) -> None:
        """Cancel queued builds and wait for the running one (interrupt it first to be quick)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            self._queued.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _name(key: str) -> str:
        return _PREFIX + hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX

    def _build(self, name: str, entry: _Entry, build: Build) -> None:
        """Run on the cache's thread: write the file atomically, then account for it."""
        with self._lock:
            self._queued.pop(name, None)
            if entry.dropped:
                return
        started = time.perf_counter()
        try:
            self._write_sidecar(entry)
            with atomic_target(entry.path) as temp:
                build(temp)
            size = entry.path.stat().st_size
        except BaseException:
            self._failed(name, entry)
            raise
        log.debug("materialised %s (%d bytes) in %.2fs", name, size, time.perf_counter() - started)
        with self._lock:
            self._built(name, entry, size)

    def _write_sidecar(self, entry: _Entry) -> None:
        """Name the view's source beside it first, so no view file is ever without one."""
        with atomic_target(_sidecar(entry.path)) as temp:
            temp.write_text(json.dumps({"source": entry.source}), encoding="utf-8")

    def _failed(self, name: str, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(name) is entry:
                del self._entries[name]
            self._remove_files(name)
            quiet = self._closed or entry.dropped
        if not quiet:
            log.warning("could not materialise view %s", name, exc_info=True)

    def _built(self, name: str, entry: _Entry, size: int) -> None:
        """Account for a finished file (lock held); one too big for the budget is deleted at once
        and never evicts anything, one dropped while it was built is deleted too."""
        if size > self._max_bytes:
            self._too_big[name] = None
            while len(self._too_big) > _MAX_TOO_BIG:
                self._too_big.popitem(last=False)
            if self._entries.get(name) is entry:
                del self._entries[name]
            entry.dropped = True
        if entry.dropped:
            self._remove_files(name)
            return
        entry.size, entry.ready = size, True
        self._total += size
        self._evict()

    def _drop(self, name: str, entry: _Entry) -> None:
        """Take ``entry`` out of the cache (lock held): cancel its build if it has not started,
        and delete its file now unless it is being read or built."""
        if self._entries.get(name) is entry:
            del self._entries[name]
        entry.dropped = True
        if self._queued.get(name) is entry:
            del self._queued[name]
            entry.future.cancel()
        if entry.ready:
            self._total -= entry.size
            if entry.pins == 0:
                self._remove_files(name)

    def _remove_files(self, name: str) -> None:
        """Delete a view's file and sidecar (lock held), unless a newer entry owns the name."""
        if name in self._entries:
            return
        path = self._dir / name
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)

    def _evict(self) -> None:
        """Delete least recently used unpinned files until the total fits (lock held)."""
        for name in list(self._entries):
            if self._total <= self._max_bytes:
                return
            entry = self._entries[name]
            if entry.ready and entry.pins == 0:
                del self._entries[name]
                self._total -= entry.size
                self._remove_files(name)

    def _adopt_files(self) -> None:
        """Take over the files a previous run left, oldest first, whose source file still exists;
        delete the others, and abandoned temporary files and sidecars."""
        self._remove_stale(self._dir.glob(".*.tmp"))
        self._remove_stale(
            path
            for path in self._dir.glob(f"{_PREFIX}*{_SIDECAR}")
            if not path.with_suffix(_SUFFIX).exists()
        )
        found: list[tuple[float, Path, int, str]] = []
        for path in self._dir.glob(f"{_PREFIX}*{_SUFFIX}"):
            source = _source_of(path)
            with suppress(OSError):
                if source is None or not Path(source).exists():
                    path.unlink(missing_ok=True)
                    _sidecar(path).unlink(missing_ok=True)
                    continue
                stat = path.stat()
                found.append((stat.st_mtime, path, stat.st_size, source))
        with self._lock:
            for _, path, size, source in sorted(found):
                self._entries[path.name] = _Entry(path, source, _done(), size=size, ready=True)
                self._total += size
            self._evict()

    @staticmethod
    def _remove_stale(paths: Iterator[Path]) -> None:
        """Delete files untouched for an hour: younger ones may be another process's work."""
        now = time.time()
        for path in paths:
            with suppress(OSError):
                if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                    path.unlink()


def _source_of(path: Path) -> str | None:
    """The source file named by a view file's sidecar, or None without a readable one."""
    try:
        recorded = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    source = recorded.get("source") if isinstance(recorded, dict) else None
    return source if isinstance(source, str) else None
