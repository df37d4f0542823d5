"""Failed sign-in counting, per (username, client address) and per address alone.

An attempt is counted *before* the password is checked and forgiven when it succeeds, so that
concurrent guesses cannot all slip through while the slow hash runs. The per-address count stops
one address from trying a password against many usernames.

Kept in process memory: one API process is the embedded default, and a limiter that forgets on
restart is still a limiter. Several API processes each count on their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque

# Sweep expired keys once the table holds this many, so that it never grows without bound.
SWEEP_AT = 10_000


class LoginLimiter:
    def __init__(self, attempts: int, window_seconds: int, attempts_per_address: int) -> None:
        self.attempts = attempts
        self.per_address = attempts_per_address
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def begin(self, username: str, address: str, now: float | None = None) -> int:
        """Count an attempt and return 0, or return the seconds to wait when over a limit."""
        now = time.monotonic() if now is None else now
        keys = ((username.lower(), address), ("", address))
        limits = (self.attempts, self.per_address)
        with self._lock:
            if len(self._failures) >= SWEEP_AT:
                self._sweep(now)
            waits = [self._wait(key, limit, now) for key, limit in zip(keys, limits, strict=True)]
            if any(waits):
                return max(waits)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
            return 0

    def succeed(self, username: str, address: str) -> None:
        """Forgive the user's failures and the attempt just counted for the address."""
        with self._lock:
            self._failures.pop((username.lower(), address), None)
            failures = self._failures.get(("", address))
            if failures:
                failures.pop()

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> int:
        failures = self._failures.get(key)
        if not failures:
            return 0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < limit:
            return 0
        return max(1, int(failures[0] + self.window - now) + 1)

    def _sweep(self, now: float) -> None:
        cutoff = now - self.window
        expired = [key for key, times in self._failures.items() if not times or times[-1] <= cutoff]
        for key in expired:
            del self._failures[key]
