"""Python task functions that talk or misbehave: ``tests.integration.runs.chatty:<name>``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path


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


def append_to(text: Path) -> dict[str, object]:
    """Write to the input file in place, as a careless task would."""
    with text.open("a", encoding="utf-8") as appending:
        appending.write("TAMPERED\n")
    return {}


def leak(workdir: Path) -> dict[str, object]:
    """Return, as a file output, a link that leads out of the working directory."""
    link = workdir / "outputs" / "leak.txt"
    link.symlink_to("/etc/hostname")
    return {"leaked": str(link)}
