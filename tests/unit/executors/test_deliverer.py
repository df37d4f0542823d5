"""Carrying out a run's effects: events first, and a bus that fails costs no dispatch."""

from __future__ import annotations

import logging

import pytest

from datamill.events.bus import MemoryBus, Subscription
from datamill.events.messages import Message
from datamill.executors.base import deliverer
from datamill.runs.effects import Dispatch, Emit, RunUpdated, Terminate


class Recorder:
    """An executor that writes down what it is asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def dispatch(self, run_id: str, step: str, attempt: int, queue: str) -> None:
        self.calls.append(("dispatch", run_id, step, str(attempt), queue))

    def terminate(self, run_id: str, step: str, attempt: int, worker: str) -> None:
        self.calls.append(("terminate", run_id, step, str(attempt), worker))

    def close(self) -> None:
        return None


class BrokenBus(MemoryBus):
    def publish(self, *messages: Message) -> None:
        raise RuntimeError("the bus is down")

    def subscribe(self) -> Subscription:
        raise NotImplementedError


EFFECTS = [
    Emit(RunUpdated("running", 1.0)),
    Dispatch("load", 2, "heavy"),
    Terminate("extract", 1, "worker-1"),
]


def test_a_bus_that_fails_costs_no_dispatch_and_no_termination(
    caplog: pytest.LogCaptureFixture,
) -> None:
    executor = Recorder()
    with caplog.at_level(logging.ERROR):
        deliverer(executor, BrokenBus())("run-1", EFFECTS)
    assert executor.calls == [
        ("dispatch", "run-1", "load", "2", "heavy"),
        ("terminate", "run-1", "extract", "1", "worker-1"),
    ]
    assert "could not publish the events of run run-1" in caplog.text
