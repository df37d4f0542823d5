"""A bounded, thread-safe map that forgets the least recently used entry: the one cache shape
the services use for facts that never change once known (parsed specs, graphs, run owners);
and single flights, so that a costly first computation asked for by many at once runs once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most ``size`` entries; reading one makes it the most recently used."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value of ``key``, built (outside the lock) and kept when missing."""
        value = self.get(key)
        if value is None:
            value = build()
            self.put(key, value)
        return value


class SingleFlight(Generic[K, V]):
    """Concurrent builds of one key share one run: the first caller builds, the others wait for
    its result (or its error). Nothing is kept afterwards: that is the caller's storage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[K, Future[V]] = {}

    def run(self, key: K, build: Callable[[], V]) -> V:
        with self._lock:
            running = self._flights.get(key)
            if running is None:
                flight = self._flights[key] = Future()
        if running is not None:
            return running.result()
        try:
            value = build()
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            with self._lock:
                del self._flights[key]
