"""Events relayed through Redis pub/sub, so that every API process delivers every event.

Publishing is one ``PUBLISH`` from whatever thread made the change (a route, the pool thread, a
Celery worker). The transition it reports is already committed, so a Redis outage must not fail
it: the message is logged and dropped, and for a second after a failure further messages are
dropped at once instead of each waiting for a connection timeout. Clients that missed events
read the current state over the REST API.

Each process runs at most one listener, a thread started by the first :meth:`RedisBus.subscribe`
(workers only publish and never start one). It feeds the process's :class:`Hub`, which hands
each message to every subscription on its own event loop, and reconnects after an outage.

Pub/sub channels ignore Redis's database number, so the channel is named after it: two
installations on ``redis://host/1`` and ``redis://host/2`` do not hear each other.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import redis
from redis.client import PubSub

from datamill.events.bus import Hub, Subscription
from datamill.events.messages import Message

log = logging.getLogger("datamill.events")

CHANNEL_PREFIX = "datamill:events"
SOCKET_TIMEOUT = 1.0
"""Seconds a publish may wait for Redis: a slow Redis must not hold up a committed transition."""
RETRY_SECONDS = 1.0
"""After a failed publish, messages are dropped at once for this long; the listener waits as long
before reconnecting (doubling up to :data:`MAX_RETRY_SECONDS`)."""
MAX_RETRY_SECONDS = 10.0
POLL_SECONDS = 0.25
"""How long the listener waits for a message before checking whether it should stop."""
RELAY_BATCH = 100
"""The most messages the listener hands to the hub at once."""
READY_SECONDS = 1.0
"""How long the first subscription waits for the listener to be subscribed in Redis."""


def channel_for(client: redis.Redis) -> str:
    """The channel of the Redis database ``client`` uses (see the module's docstring)."""
    database = client.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL_PREFIX}:{database}"


class RedisBus:
    """The :class:`~datamill.events.bus.EventBus` of processes that share a Redis server."""

    def __init__(self, url: str, channel: str | None = None) -> None:
        self.url = url
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
            client_name=f"datamill-events-{os.getpid()}",  # for CLIENT LIST
        )
        self.channel = channel or channel_for(self._client)
        self.hub = Hub()
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()
        self._subscribed = threading.Event()
        self._failing_until = 0.0
        self._dropped = 0

    # -- publishing ------------------------------------------------------------------------

    def publish(self, *messages: Message) -> None:
        if self._closing.is_set() or not messages:
            return
        with self._lock:
            if time.monotonic() < self._failing_until:
                self._dropped += len(messages)
                return
        try:
            if len(messages) == 1:
                self._client.publish(self.channel, messages[0].to_json())
            else:
                with self._client.pipeline(transaction=False) as pipe:
                    for message in messages:
                        pipe.publish(self.channel, message.to_json())
                    pipe.execute()
        except redis.RedisError as error:
            with self._lock:
                if self._failing_until == 0.0:
                    log.warning("Redis events unreachable at %s, dropping: %s", self.url, error)
                self._failing_until = time.monotonic() + RETRY_SECONDS
                self._dropped += len(messages)
            return
        with self._lock:
            if self._failing_until:
                log.warning("Redis events back at %s; %d dropped", self.url, self._dropped)
                self._failing_until = 0.0
                self._dropped = 0

    # -- subscribing -----------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        """A subscription fed by this process's listener, started on first use.

        The first call waits (at most :data:`READY_SECONDS`) until the listener is subscribed,
        so that a client told it is subscribed misses nothing published afterwards.
        """
        subscription = self.hub.add()
        started = False
        with self._lock:
            if self._listener is None and not self._closing.is_set():
                self._listener = threading.Thread(
                    target=self._listen, name="datamill-events", daemon=True
                )
                self._listener.start()
                started = True
        if started:
            self._subscribed.wait(READY_SECONDS)
        return subscription

    @property
    def listening(self) -> bool:
        """True while the listener is subscribed in Redis."""
        return self._subscribed.is_set()

    def close(self) -> None:
        self._closing.set()
        listener = self._listener
        if listener is not None and listener is not threading.current_thread():
            listener.join(POLL_SECONDS * 8)
        self.hub.close()
        self._client.close()

    def _listen(self) -> None:
        delay = RETRY_SECONDS
        while not self._closing.is_set():
            pubsub = self._client.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self.channel)
                if delay > RETRY_SECONDS:
                    log.warning("Redis events listener reconnected to %s", self.url)
                delay = RETRY_SECONDS
                self._relay(pubsub)
            except (redis.RedisError, OSError) as error:
                log.warning(
                    "Redis events listener lost %s (%s); retrying in %.0f s", self.url, error, delay
                )
                self._closing.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
            except Exception:  # a listener that died would silence every subscriber for good
                log.exception("Redis events listener failed; restarting in %.0f s", delay)
                self._closing.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
            finally:
                self._subscribed.clear()
                pubsub.close()

    def _relay(self, pubsub: PubSub) -> None:
        """Hand every message on the channel to the hub until the bus closes: those already
        arrived together, so that a burst wakes each subscriber's loop once."""
        while not self._closing.is_set():
            raw = pubsub.get_message(timeout=POLL_SECONDS)
            arrived: list[Message] = []
            while raw is not None:
                if raw.get("type") == "subscribe":  # Redis confirms: nothing is missed now
                    self._subscribed.set()
                message = self._parse(raw)
                if message is not None:
                    arrived.append(message)
                if len(arrived) >= RELAY_BATCH:
                    break
                raw = pubsub.get_message(timeout=0)
            if arrived:
                self.hub.deliver(arrived)

    def _parse(self, raw: dict[str, Any]) -> Message | None:
        if raw.get("type") != "message":
            return None
        try:
            return Message.from_json(raw["data"])
        except ValueError:
            log.warning("ignoring a malformed event on %s", self.channel)
            return None
