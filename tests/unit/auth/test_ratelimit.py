from __future__ import annotations

import pytest

from datamill.auth import ratelimit
from datamill.auth.ratelimit import LoginLimiter


def test_attempts_are_counted_before_the_check_and_blocked_beyond_the_limit() -> None:
    limiter = LoginLimiter(attempts=2, window_seconds=60, attempts_per_address=100)
    assert limiter.begin("Alice", "1.2.3.4", now=0) == 0
    assert limiter.begin("alice", "1.2.3.4", now=2) == 0
    assert limiter.begin("alice", "1.2.3.4", now=3) == 58
    assert limiter.begin("alice", "5.6.7.8", now=3) == 0
    assert limiter.begin("bob", "1.2.3.4", now=3) == 0
    assert limiter.begin("alice", "1.2.3.4", now=61) == 0


def test_a_successful_sign_in_forgives_the_users_failures() -> None:
    limiter = LoginLimiter(attempts=1, window_seconds=60, attempts_per_address=100)
    limiter.begin("alice", "a", now=0)
    limiter.succeed("alice", "a")
    assert limiter.begin("alice", "a", now=1) == 0


def test_one_address_cannot_try_many_usernames() -> None:
    limiter = LoginLimiter(attempts=5, window_seconds=60, attempts_per_address=3)
    for name in ("a1", "a2", "a3"):
        assert limiter.begin(name, "9.9.9.9", now=0) == 0
    assert limiter.begin("a4", "9.9.9.9", now=1) > 0
    assert limiter.begin("a4", "8.8.8.8", now=1) == 0


def test_expired_keys_are_swept_so_the_table_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "SWEEP_AT", 10)
    limiter = LoginLimiter(attempts=5, window_seconds=60, attempts_per_address=1000)
    for index in range(10):
        limiter.begin(f"user{index}", f"10.0.0.{index}", now=0)
    limiter.begin("late", "10.0.1.1", now=120)
    assert len(limiter._failures) == 2
