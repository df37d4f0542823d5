"""Python task functions that talk: registered as ``tests.integration.runs.chatty:<name>``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def chatter(lines: int, fail: bool = False) -> dict[str, object]:
    """Print ``lines`` numbered lines, alternately to stdout and stderr; raise at the end when
    ``fail``."""
    for number in range(1, lines + 1):
        print(f"line {number}", file=sys.stdout if number % 2 else sys.stderr)
    if fail:
        raise RuntimeError(f"gave up after {lines} lines")
    return {}


def count_down(progress: Callable[[float, str | None], None]) -> dict[str, object]:
    """Report progress four times, a little apart, the last one completion."""
    progress(0.0, "3 to go")
    progress(0.25, "2 to go")  # too soon after the first: dropped
    time.sleep(0.15)
    progress(0.5, "1 to go")
    progress(1.0, None)  # completion always goes out
    return {}
