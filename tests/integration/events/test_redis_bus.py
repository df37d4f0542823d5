"""The Redis bus against the real Redis: every process hears every event, an outage never fails a
publisher, and the listener comes back after losing its connection."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator

import pytest
import redis

from datamill.events.bus import Subscription
from datamill.events.messages import Message
from datamill.events.redis import RedisBus, channel_for

WAIT_SECONDS = 10.0


def message(number: int) -> Message:
    return Message("run.updated", f"run-{number}", "2026-01-01T00:00:00.000Z", {"n": number})


async def numbers(subscription: Subscription, count: int) -> list[int]:
    got = []
    for _ in range(count):
        item = await asyncio.wait_for(subscription.get(), WAIT_SECONDS)
        assert item is not None
        got.append(item.data["n"])
    return got


@pytest.fixture
def buses(redis_url: str, channel: str) -> Iterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one channel, as two processes would hold them."""
    first, second = RedisBus(redis_url, channel), RedisBus(redis_url, channel)
    yield first, second
    first.close()
    second.close()


def test_every_subscriber_of_every_bus_hears_every_event_in_order(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = buses

    async def scenario() -> tuple[list[int], list[int]]:
        with first.subscribe() as here, second.subscribe() as there:
            for number in range(100):
                (first if number % 2 else second).publish(message(number))
            return await numbers(here, 100), await numbers(there, 100)

    here, there = asyncio.run(scenario())
    assert here == there == list(range(100))


def test_messages_published_together_reach_every_bus_in_order(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = buses

    async def scenario() -> tuple[list[int], list[int]]:
        with first.subscribe() as here, second.subscribe() as there:
            first.publish(*(message(number) for number in range(150)))  # past one relay batch
            second.publish(message(150))
            return await numbers(here, 151), await numbers(there, 151)

    here, there = asyncio.run(scenario())
    assert here == there == list(range(151))


def test_a_publishing_only_bus_starts_no_listener(redis_url: str, channel: str) -> None:
    bus = RedisBus(redis_url, channel)
    bus.publish(message(1))
    assert bus._listener is None and not bus.listening
    bus.close()


def test_a_malformed_message_on_the_channel_is_skipped(
    buses: tuple[RedisBus, RedisBus], redis_url: str, channel: str
) -> None:
    bus, _ = buses

    async def scenario() -> list[int]:
        with bus.subscribe() as subscription, redis.Redis.from_url(redis_url) as raw:
            raw.publish(channel, b"not json")
            raw.publish(channel, b'{"type": "run.updated"}')
            bus.publish(message(7))
            return await numbers(subscription, 1)

    assert asyncio.run(scenario()) == [7]


def test_an_unreachable_redis_drops_events_quickly_and_never_fails_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens on port 1
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "datamill.events"):
        for number in range(200):
            bus.publish(message(number))
    elapsed = time.monotonic() - started
    bus.close()
    assert elapsed < 3.0  # one failed connection, then dropped at once for a while
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "unreachable" in caplog.records[0].message


def test_the_listener_reconnects_after_losing_its_connection(
    buses: tuple[RedisBus, RedisBus], redis_url: str
) -> None:
    listener, publisher = buses

    async def scenario() -> list[int]:
        with listener.subscribe() as subscription:
            publisher.publish(message(1))
            got = await numbers(subscription, 1)
            assert _kill_listener_connections(redis_url) == 1
            deadline = time.monotonic() + WAIT_SECONDS
            number = 100
            while time.monotonic() < deadline:  # published while it reconnects: may be lost
                number += 1
                publisher.publish(message(number))
                try:
                    item = await asyncio.wait_for(subscription.get(), 0.2)
                except TimeoutError:
                    continue
                assert item is not None
                return [*got, item.data["n"]]
            return got

    got = asyncio.run(scenario())
    assert got[0] == 1 and len(got) == 2 and got[1] > 100


def test_close_stops_the_listener_and_ends_subscriptions(redis_url: str, channel: str) -> None:
    bus = RedisBus(redis_url, channel)

    async def scenario() -> list[Message]:
        subscription = bus.subscribe()
        assert bus.listening
        started = time.monotonic()
        bus.close()
        assert time.monotonic() - started < 2.0
        return [m async for m in subscription]

    assert asyncio.run(scenario()) == []
    assert bus._listener is not None and not bus._listener.is_alive()


def test_the_channel_is_named_after_the_redis_database() -> None:
    assert channel_for(redis.Redis.from_url("redis://h:6379/3")) == "datamill:events:3"
    assert channel_for(redis.Redis.from_url("redis://h:6379")) == "datamill:events:0"


def _kill_listener_connections(url: str) -> int:
    """Cut the pub/sub connections this process holds, as a Redis restart would; how many."""
    name = f"datamill-events-{os.getpid()}"
    killed = 0
    with redis.Redis.from_url(url) as admin:
        for client in admin.client_list(_type="pubsub"):
            if client.get("name") == name:
                killed += admin.client_kill_filter(_id=client["id"])
    return killed
