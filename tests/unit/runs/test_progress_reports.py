"""The ``progress`` callable a python task gets: clamped, rate limited, never the task's failure."""

from __future__ import annotations

import pytest

from datamill.runs.progress import MESSAGE_CHARS, Progress, progress_line


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def reporter(clock: FakeClock) -> tuple[Progress, list[tuple[float, str | None]]]:
    seen: list[tuple[float, str | None]] = []
    return Progress(lambda f, m: seen.append((f, m)), clock), seen


def test_fractions_are_clamped_to_zero_and_one(clock: FakeClock) -> None:
    progress, seen = reporter(clock)
    for value in (-3, 0.5, 7, float("nan")):
        progress(value)
        clock.now += 1
    assert seen == [(0.0, None), (0.5, None), (1.0, None), (0.0, None)]


def test_reports_closer_than_a_tenth_of_a_second_are_dropped(clock: FakeClock) -> None:
    progress, seen = reporter(clock)
    progress(0.1, "a")
    clock.now += 0.05
    progress(0.2, "dropped")
    clock.now += 0.06
    progress(0.3, "b")
    assert seen == [(0.1, "a"), (0.3, "b")]


def test_completion_goes_out_even_right_after_another_report(clock: FakeClock) -> None:
    progress, seen = reporter(clock)
    progress(0.9)
    progress(1.0, "done")
    progress(1.0, "done again")
    assert seen == [(0.9, None), (1.0, "done")]


def test_a_long_message_is_shortened(clock: FakeClock) -> None:
    progress, seen = reporter(clock)
    progress(0.5, "x" * 1000)
    assert seen == [(0.5, "x" * MESSAGE_CHARS)]


def test_a_failing_receiver_does_not_fail_the_task(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_fraction: float, _message: str | None) -> None:
        raise ConnectionError("bus down")

    Progress(broken, clock)(0.5)

    assert "could not pass on the progress" in caplog.text


def test_without_a_receiver_progress_is_a_no_op(clock: FakeClock) -> None:
    Progress(None, clock)(0.5, "nobody listens")


@pytest.mark.parametrize(
    ("line", "found"),
    [
        (b"::progress 0.5 halfway there\n", (0.5, "halfway there")),
        (b"::progress 1", (1.0, None)),
        (b"::progress\t0.25\t\xc3\xa9t\xc3\xa9 \r\n", (0.25, "\u00e9t\u00e9")),
        (b"::progress half", None),
        (b"progress 0.5", None),
        (b"  ::progress 0.5", None),
        (b"::progressive 0.5", None),
    ],
)
def test_a_progress_line_is_recognised_only_in_its_own_form(
    line: bytes, found: tuple[float, str | None] | None
) -> None:
    assert progress_line(line) == found
