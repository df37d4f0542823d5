from __future__ import annotations

from datamill.auth.ratelimit import LoginLimiter


def test_limiter_blocks_after_the_allowed_failures_and_forgets_after_the_window() -> None:
    limiter = LoginLimiter(attempts=2, window_seconds=60)
    limiter.record_failure("Alice", "1.2.3.4", now=0)
    assert limiter.retry_after("alice", "1.2.3.4", now=1) == 0
    limiter.record_failure("alice", "1.2.3.4", now=2)
    assert limiter.retry_after("alice", "1.2.3.4", now=3) == 58
    assert limiter.retry_after("alice", "5.6.7.8", now=3) == 0
    assert limiter.retry_after("bob", "1.2.3.4", now=3) == 0
    assert limiter.retry_after("alice", "1.2.3.4", now=61) == 0


def test_a_successful_sign_in_resets_the_count() -> None:
    limiter = LoginLimiter(attempts=1, window_seconds=60)
    limiter.record_failure("alice", "a", now=0)
    limiter.reset("alice", "a")
    assert limiter.retry_after("alice", "a", now=1) == 0
