"""The in-process bus: order, isolation of a slow subscriber, subscribers whose loop is gone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from datamill.events import bus as bus_module
from datamill.events.bus import MemoryBus, Subscription
from datamill.events.messages import Message


def message(number: int, kind: str = "run.updated") -> Message:
    return Message(kind, f"run-{number}", "2026-01-01T00:00:00.000Z", {"n": number})


async def drain(subscription: Subscription, count: int) -> list[Message]:
    received = []
    for _ in range(count):
        item = await asyncio.wait_for(subscription.get(), 5)
        assert item is not None
        received.append(item)
    return received


def test_each_subscriber_gets_every_message_in_publication_order() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        bus = MemoryBus()
        with bus.subscribe() as first, bus.subscribe() as second:
            for number in range(100):
                bus.publish(message(number))
            a = await drain(first, 100)
            b = await drain(second, 100)
        return [m.data["n"] for m in a], [m.data["n"] for m in b]

    first, second = asyncio.run(scenario())
    assert first == second == list(range(100))


def test_messages_published_together_arrive_in_order_between_the_others() -> None:
    async def scenario() -> list[int]:
        bus = MemoryBus()
        with bus.subscribe() as subscription:
            bus.publish(message(0))
            bus.publish(*(message(number) for number in range(1, 50)))
            bus.publish()  # nothing to send: nothing arrives
            bus.publish(message(50))
            return [m.data["n"] for m in await drain(subscription, 51)]

    assert asyncio.run(scenario()) == list(range(51))


def test_messages_published_from_other_threads_arrive_in_each_threads_order() -> None:
    async def scenario() -> list[Message]:
        bus = MemoryBus()
        with bus.subscribe() as subscription:

            def publish(thread: int) -> None:
                for number in range(200):
                    bus.publish(message(thread * 1000 + number))

            threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return await drain(subscription, 800)

    received = [m.data["n"] for m in asyncio.run(scenario())]
    for thread in range(4):
        mine = [n for n in received if n // 1000 == thread]
        assert mine == sorted(mine) and len(mine) == 200


def test_a_subscription_sees_only_what_was_published_after_it() -> None:
    async def scenario() -> list[Message]:
        bus = MemoryBus()
        bus.publish(message(1))
        with bus.subscribe() as subscription:
            bus.publish(message(2))
            return await drain(subscription, 1)

    assert [m.data["n"] for m in asyncio.run(scenario())] == [2]


def test_a_subscriber_that_falls_behind_is_dropped_and_the_others_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bus_module, "QUEUE_SIZE", 5)

    async def scenario() -> tuple[Subscription, list[Message], Subscription, list[Message]]:
        bus = MemoryBus()
        slow = bus.subscribe()
        fast = bus.subscribe()
        fast_got: list[Message] = []
        for number in range(8):
            bus.publish(message(number))
            await asyncio.sleep(0)  # delivery is scheduled on the loop
            fast_got += await drain(fast, 1)
        slow_got = [m async for m in slow]  # ends: the overflow closed it
        bus.publish(message(99))
        fast_got += await drain(fast, 1)
        return slow, slow_got, fast, fast_got

    slow, slow_got, fast, fast_got = asyncio.run(scenario())
    assert slow.overflowed and not fast.overflowed
    assert [m.data["n"] for m in slow_got] == [1, 2, 3, 4]  # the oldest made room for the end
    assert [m.data["n"] for m in fast_got] == [*range(8), 99]


def test_closing_the_bus_ends_every_subscription() -> None:
    async def scenario() -> list[Message]:
        bus = MemoryBus()
        subscription = bus.subscribe()
        bus.publish(message(1))
        bus.close()
        return [m async for m in subscription]

    assert [m.data["n"] for m in asyncio.run(scenario())] == [1]


def test_a_subscriber_whose_loop_has_closed_is_forgotten_without_failing_the_publisher() -> None:
    bus = MemoryBus()

    async def subscribe() -> Subscription:
        return bus.subscribe()

    gone = asyncio.run(subscribe())  # its loop is closed when run() returns

    async def scenario() -> list[Message]:
        with bus.subscribe() as alive:
            bus.publish(message(1))
            bus.publish(message(2))
            return await drain(alive, 2)

    assert [m.data["n"] for m in asyncio.run(scenario())] == [1, 2]
    assert gone not in bus.hub._subscriptions


def test_a_closed_subscription_receives_nothing_more() -> None:
    async def scenario() -> bool:
        bus = MemoryBus()
        subscription = bus.subscribe()
        subscription.close()
        bus.publish(message(1))
        await asyncio.sleep(0.01)
        return subscription._queue.empty()

    assert asyncio.run(scenario())
