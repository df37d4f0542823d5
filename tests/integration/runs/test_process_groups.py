"""Nothing a command started outlives the process that answers for it: a validator's child
killed at its timeout takes its command and what that started with it, a validator answers
without starting a new interpreter, and a pool's parent can learn the group to kill."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from datamill.config import Settings
from datamill.pipelines.tasks import task_from_document
from datamill.runs import execution
from datamill.runs.execution import Job, run_job
from datamill.runs.inputs import run_isolated
from tests.fixtures.db import make_settings


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "data", None)
    settings.ensure_dirs()
    return settings


def processes_with(marker: str) -> list[int]:
    """The ids of the live processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def sleeper(seconds: str, started: Path | None = None) -> Job:
    """A command that sleeps ``seconds`` in the background and in the foreground (having
    created ``started``, if given)."""
    script = f"sleep {seconds} & sleep {seconds}"
    if started is not None:
        script = f"touch {started}; {script}"
    task = task_from_document({"name": "v", "kind": "command", "command": ["sh", "-c", script]})
    return Job(task, {}, {})


@pytest.fixture
def marker() -> Iterator[str]:
    """A unique duration to sleep: how the test finds its processes again."""
    seconds = f"40.{uuid.uuid4().int % 10**6:06d}"
    yield seconds
    deadline = time.monotonic() + 2  # never leave one behind, even when the test failed
    while (left := processes_with(f"sleep {seconds}")) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def test_a_validator_past_its_timeout_leaves_nothing_of_its_command_running(
    plain_settings: Settings, tmp_path: Path, marker: str
) -> None:
    run_isolated(sleeper("0"), plain_settings, tmp_path / "warm", 30)  # the fork server is up
    started = tmp_path / "started"
    began = time.monotonic()
    result = run_isolated(sleeper(marker, started), plain_settings, tmp_path / "w", 4)

    assert result.status == "timed_out" and started.exists()
    assert time.monotonic() - began < 8
    deadline = time.monotonic() + 2
    while processes_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(f"sleep {marker}") == []


def test_a_validator_answers_without_starting_a_new_interpreter(
    plain_settings: Settings, tmp_path: Path
) -> None:
    task = task_from_document({"name": "ok", "kind": "command", "command": ["true"]})
    run_isolated(Job(task, {}, {}), plain_settings, tmp_path / "warm", 30)
    durations = []
    for number in range(3):
        began = time.monotonic()
        result = run_isolated(Job(task, {}, {}), plain_settings, tmp_path / str(number), 30)
        durations.append(time.monotonic() - began)
        assert result.status == "succeeded"

    assert min(durations) < 1.0, durations


def test_a_parent_told_the_running_group_can_stop_the_command_and_all_it_started(
    plain_settings: Settings, tmp_path: Path, marker: str
) -> None:
    seen: list[int | None] = []

    def parent_kills(group: int | None) -> None:
        seen.append(group)
        if group is not None:  # as a pool's parent would, killing a lingering worker
            threading.Timer(0.3, os.killpg, (group, signal.SIGKILL)).start()

    execution.set_group_listener(parent_kills)
    try:
        began = time.monotonic()
        result = run_job(sleeper(marker), plain_settings, tmp_path / "w")
    finally:
        execution.set_group_listener(None)

    assert time.monotonic() - began < 5
    assert (result.status, result.reason) == ("failed", "killed by signal 9")
    assert len(seen) == 2 and isinstance(seen[0], int) and seen[1] is None
    assert execution.running_group() is None
    assert processes_with(f"sleep {marker}") == []
