"""How long a failed step waits before its next attempt."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_EXPONENT = 1000
"""Far beyond any cap, and small enough that ``2.0 ** n`` never overflows a float."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``base`` seconds after the first failure, doubling, up to ``cap``.

    Waiting longer after each failure gives a struggling resource (a database, a remote service)
    room to recover instead of hammering it; the cap keeps a step with many retries from
    disappearing for hours.
    """

    base: float = 1.0
    cap: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise ValueError("backoff needs 0 < base <= cap")

    def delay(self, failures: int, jitter: float = 0.0) -> float:
        """Seconds to wait after the ``failures``-th failed attempt of a round (1 for the first).

        ``jitter`` is a number in [0, 1] drawn by the caller (the machine reads no random
        source, so that it stays reproducible): it shortens the delay by up to half, so steps
        that failed together (a broker hiccup) do not all come back at the same instant, while
        the cap stays a true maximum.
        """
        if failures < 1:
            raise ValueError("failures counts from 1")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter must be in [0, 1]")
        exponent = min(failures - 1, _MAX_EXPONENT)
        return min(self.cap, self.base * 2.0**exponent) * (1.0 - jitter / 2.0)


DEFAULT_BACKOFF = Backoff()
