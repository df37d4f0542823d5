"""The wait between a failed attempt and the next one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamill.runs.backoff import DEFAULT_BACKOFF, Backoff


def test_the_wait_starts_at_one_second_and_doubles() -> None:
    assert [DEFAULT_BACKOFF.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_wait_stops_growing_at_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=10.0)
    assert [backoff.delay(n) for n in (4, 5, 6)] == [8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0


def test_full_jitter_halves_the_wait() -> None:
    assert DEFAULT_BACKOFF.delay(3, jitter=1.0) == 2.0


@pytest.mark.parametrize(("failures", "jitter"), [(0, 0.0), (1, -0.1), (1, 1.5)])
def test_impossible_arguments_are_refused(failures: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        DEFAULT_BACKOFF.delay(failures, jitter)


def test_a_backoff_needs_a_positive_base_under_its_cap() -> None:
    with pytest.raises(ValueError):
        Backoff(base=0.0)
    with pytest.raises(ValueError):
        Backoff(base=5.0, cap=1.0)


@given(
    st.integers(min_value=1, max_value=10_000),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.001, max_value=100.0),
)
def test_the_wait_never_shrinks_with_more_failures_and_never_passes_the_cap(
    failures: int, jitter: float, base: float
) -> None:
    backoff = Backoff(base=base, cap=max(base, 60.0))
    delay = backoff.delay(failures, jitter)
    assert backoff.delay(failures) / 2 <= delay <= backoff.delay(failures) <= backoff.cap
    assert backoff.delay(failures) <= backoff.delay(failures + 1)
