"""The event bus: publish from any thread, subscribe from the event loop.

:class:`MemoryBus` delivers within one process (the embedded default: the API process runs the
local worker pool, so every event passes through it). ``datamill.events.redis`` relays through
Redis pub/sub so that every API process delivers every event, whichever process or worker
published it.

A slow subscriber never holds up a publisher: each subscription has a bounded queue, and a
subscriber that lets it fill up is dropped (its WebSocket is closed, the client reconnects and
reads the current state over the REST API).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from datamill.events.messages import Message

QUEUE_SIZE = 10_000
"""Messages a subscriber may fall behind by before it is dropped."""


class EventBus(Protocol):
    def publish(self, *messages: Message) -> None:
        """Send ``messages``, in order, to every subscriber; callable from any thread, never
        blocks long. Several at once cost about what one does (one wake-up of each subscriber's
        loop, one trip to Redis)."""

    def subscribe(self) -> Subscription:
        """A new subscription, to be used from the running event loop and closed after use."""

    def close(self) -> None:
        """Stop relaying; subscriptions end."""


class Subscription:
    """The messages published after it was made, in order, until it is closed or overflows."""

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self._hub = hub
        self._loop = loop
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, messages: Sequence[Message | None]) -> None:
        """Queue ``messages`` (None ends the subscription); runs on the subscriber's loop."""
        for message in messages:
            if self.overflowed:
                return
            try:
                self._queue.put_nowait(message)
            except asyncio.QueueFull:
                self.overflowed = True
                self._hub.remove(self)
                self._queue.get_nowait()
                self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Message]:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            yield message

    async def get(self) -> Message | None:
        """The next message, or None once the subscription has ended."""
        return await self._queue.get()

    def close(self) -> None:
        self._hub.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Hub:
    """The subscriptions of one process, and thread-safe delivery to each on its own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def add(self) -> Subscription:
        subscription = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def deliver(self, messages: Sequence[Message | None]) -> None:
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            try:
                subscription._loop.call_soon_threadsafe(subscription.offer, messages)
            except RuntimeError:  # its loop has closed: the subscriber is gone
                self.remove(subscription)

    def close(self) -> None:
        self.deliver([None])
        with self._lock:
            self._subscriptions.clear()


class MemoryBus:
    """Events within one process."""

    def __init__(self) -> None:
        self.hub = Hub()

    def publish(self, *messages: Message) -> None:
        if messages:
            self.hub.deliver(messages)

    def subscribe(self) -> Subscription:
        return self.hub.add()

    def close(self) -> None:
        self.hub.close()


def open_bus(url: str | None) -> EventBus:
    """The bus for ``url``: Redis pub/sub when it is set, else within this process."""
    if url:
        from datamill.events.redis import RedisBus

        return RedisBus(url)
    return MemoryBus()
