"""Failed sign-in counting per (username, client address).

Kept in process memory: one API process is the embedded default, and a limiter that forgets on
restart is still a limiter. Several API processes each count on their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginLimiter:
    def __init__(self, attempts: int, window_seconds: int) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str, now: float | None = None) -> int:
        """Seconds to wait before another try, or 0 when a try is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._prune((username.lower(), address), now)
            if len(failures) < self.attempts:
                return 0
            return max(1, int(failures[0] + self.window - now) + 1)

    def record_failure(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            key = (username.lower(), address)
            self._prune(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures
