"""The log of a step attempt (``log.txt``), kept to at most ``settings.step_log_bytes``.

Beyond the cap the log is cut, and ends with one line that says so: a reader can tell a cut
log from a complete one. The head of a log is what is kept; the reason of a failure (the end of
a command's stderr, a function's exception) is reported apart from the log.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

CHUNK_BYTES = 1024 * 1024


def cut_notice(limit: int) -> bytes:
    return f"[log cut at {limit} bytes]\n".encode()


def append_capped(log: BinaryIO, source: BinaryIO, limit: int) -> bool:
    """Append ``source`` (from where it stands) to the end of ``log`` while ``log`` holds less
    than ``limit`` bytes; True when something was left out."""
    room = limit - log.seek(0, os.SEEK_END)
    while room > 0:
        chunk = source.read(min(room, CHUNK_BYTES))
        if not chunk:
            return False
        log.write(chunk)
        room -= len(chunk)
    return bool(source.read(1))


def cut_log(log: BinaryIO, limit: int) -> None:
    """End ``log`` (opened for reading and writing) at ``limit`` bytes, then the notice.

    For a command's log, which its program writes directly: cut once the program has ended.
    """
    log.seek(limit - 1)
    last = log.read(1)
    log.seek(limit)
    log.truncate()
    log.write((b"" if last == b"\n" else b"\n") + cut_notice(limit))


class CappedLog(io.TextIOBase):
    """A text stream onto ``log.txt`` that keeps the first ``limit`` bytes of what is written.

    What a python task prints goes here (its ``sys.stdout`` and ``sys.stderr``), so a chatty
    function cannot fill the disk; closing it appends the notice when something was dropped.
    """

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__()
        self._file = path.open("wb")
        self._limit = limit
        self._written = 0
        self._cut = False
        self._last = b"\n"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        data = text.encode("utf-8", errors="replace")
        room = self._limit - self._written
        if len(data) > room:
            self._cut = True
            data = data[: max(room, 0)]
        if data:
            self._file.write(data)
            self._written += len(data)
            self._last = data[-1:]
        return len(text)

    def flush(self) -> None:
        if not self.closed:
            self._file.flush()

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a step log has no file descriptor")

    def close(self) -> None:
        if self.closed:
            return
        if self._cut:
            self._file.write((b"" if self._last == b"\n" else b"\n") + cut_notice(self._limit))
        super().close()
        self._file.close()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
