"""How far a running step is: what a python task reports through its ``progress`` parameter,
or a command prints on stdout as ``::progress <fraction> [message]`` lines.

Progress is advice for people watching a run, never part of its state: calls are rate limited
(a loop reporting every row must not flood the event bus), and a failure to pass one on is
logged, not the task's failure.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

OnProgress = Callable[[float, str | None], None]
"""Receives ``(fraction, message)``: fraction in 0..1, message at most :data:`MESSAGE_CHARS`."""

MIN_INTERVAL = 0.1
"""Seconds between two reports passed on: at most ten a second."""
MESSAGE_CHARS = 200
CHUNK_BYTES = 64 * 1024


class Progress:
    """The ``progress(fraction, message=None)`` callable a python task is given."""

    def __init__(
        self, on_progress: OnProgress | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._on_progress = on_progress
        self._clock = clock
        self._last_at: float | None = None
        self._last_fraction = -1.0

    def __call__(self, fraction: float, message: str | None = None) -> None:
        """Report ``fraction`` (clamped to 0..1) of the work done, with an optional message.

        Dropped when the previous report passed on is less than :data:`MIN_INTERVAL` old,
        except the first report of completion (1.0), which always goes out.
        """
        value = float(fraction)
        value = 0.0 if math.isnan(value) else min(1.0, max(0.0, value))
        now = self._clock()
        done = value == 1.0 and self._last_fraction != 1.0
        recent = self._last_at is not None and now - self._last_at < MIN_INTERVAL
        if self._on_progress is None or (recent and not done):
            return
        self._last_at, self._last_fraction = now, value
        text = None if message is None else str(message)[:MESSAGE_CHARS]
        try:
            self._on_progress(value, text)
        except Exception:  # progress is advice: losing one report must not fail the task
            log.exception("could not pass on the progress of a step")


PROGRESS_LINE = re.compile(rb"::progress[ \t]+(\S+)(?:[ \t]+(.*))?")
"""A line a command prints on stdout to report progress: ``::progress 0.5 halfway there``."""
LONGEST_LINE = 4096
"""Bytes of an unfinished line kept while following a log; a longer line is no progress line."""


def progress_line(line: bytes) -> tuple[float, str | None] | None:
    """The fraction and message of a ``::progress`` line, or None for any other line."""
    match = PROGRESS_LINE.fullmatch(line.rstrip(b"\r\n"))
    if match is None:
        return None
    try:
        fraction = float(match[1])
    except ValueError:
        return None
    message = (match[2] or b"").decode("utf-8", errors="replace").strip()
    return fraction, message or None


class LogFollower:
    """Follows a command's stdout file while the command runs, passing on its progress lines.

    A thread reads what was appended every :data:`MIN_INTERVAL` seconds, as ``tail -f`` does:
    the command writes to a file, never to a pipe it could block on. Leaving the ``with``
    block reads what is left and stops the thread.
    """

    def __init__(self, path: Path, progress: Progress, interval: float = MIN_INTERVAL) -> None:
        self._path = path
        self._progress = progress
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="datamill-progress", daemon=True)

    def __enter__(self) -> LogFollower:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _follow(self) -> None:
        pending, overlong = b"", False
        with self._path.open("rb") as log:
            while True:
                stopping = self._stop.wait(self._interval)
                while chunk := log.read(CHUNK_BYTES):
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        if not overlong:
                            self._pass_on(line)
                        overlong = False
                    if len(pending) > LONGEST_LINE:  # the rest of this line is no progress line
                        pending, overlong = b"", True
                if stopping:
                    if not overlong:
                        self._pass_on(pending)
                    return

    def _pass_on(self, line: bytes) -> None:
        found = progress_line(line)
        if found is not None:
            self._progress(*found)
