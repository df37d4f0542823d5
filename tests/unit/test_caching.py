"""Single flights: many callers at once, one computation."""

from __future__ import annotations

import threading
import time

import pytest

from datamill.caching import SingleFlight


def test_concurrent_callers_of_one_key_share_one_build() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    builds: list[int] = []
    started = threading.Event()

    def build() -> int:
        builds.append(1)
        started.set()
        time.sleep(0.2)
        return 42

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(flights.run("k", build)))
    first.start()
    started.wait()
    others = [
        threading.Thread(target=lambda: results.append(flights.run("k", build))) for _ in range(5)
    ]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    assert results == [42] * 6
    assert len(builds) == 1


def test_a_failed_build_fails_its_waiters_and_the_next_call_builds_again() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    started = threading.Event()

    def failing() -> int:
        started.set()
        time.sleep(0.2)
        raise ValueError("boom")

    waiter_saw: list[BaseException] = []

    def wait() -> None:
        try:
            flights.run("k", lambda: 0)
        except ValueError as error:
            waiter_saw.append(error)

    def lead() -> None:
        with pytest.raises(ValueError, match="boom"):
            flights.run("k", failing)

    waiter = threading.Thread(target=wait)
    leader = threading.Thread(target=lead)
    leader.start()
    started.wait()
    waiter.start()
    for thread in (leader, waiter):
        thread.join()
    assert [str(error) for error in waiter_saw] == ["boom"]
    assert flights.run("k", lambda: 7) == 7


def test_different_keys_build_independently() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    assert flights.run("a", lambda: "A") == "A"
    assert flights.run("b", lambda: "B") == "B"
