"""Following a step's log for a WebSocket client: what is there, then what is appended.

The log is ``log.txt`` in the working directory of the step's current attempt, written by a
worker that may be another process or another machine sharing the data directory, so it is
polled: the file a few times a second, the step's state once a second. A retry moves the tail to
the new attempt's log. The tail ends once the step has ended and its log has been read to the
end; the last chunk says ``done``.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.db.models import RunStep
from datamill.events.messages import Message, now_iso
from datamill.runs.workdir import LOG_FILE, workdir_path

CHUNK_BYTES = 64 * 1024
"""The most text one ``step.log`` message carries."""
FILE_POLL_SECONDS = 0.2
STATE_POLL_EVERY = 5
"""The step's state is read at every fifth look at the file."""
ENDED_STATES = frozenset({"succeeded", "failed", "cancelled", "upstream_failed"})


def step_progress(
    sessions: sessionmaker[Session], run_id: str, step: str
) -> tuple[str, int] | None:
    """The step's state and current attempt number, or None when the run has no such step."""
    with sessions() as db:
        query = select(RunStep.state, RunStep.attempt).where(
            RunStep.run_id == run_id, RunStep.name == step
        )
        row = db.execute(query).first()
    return None if row is None else (row[0], row[1])


def read_from(path: Path, offset: int) -> tuple[bytes, int]:
    """Up to :data:`CHUNK_BYTES` of ``path`` from ``offset``, and where that read started (0 when
    the file is shorter than ``offset``: it was written anew)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            start = offset if size >= offset else 0
            handle.seek(start)
            return handle.read(CHUNK_BYTES), start
    except FileNotFoundError:
        return b"", 0


def log_message(run_id: str, step: str, attempt: int, text: str, done: bool) -> Message:
    data = {"run_id": run_id, "step": step, "attempt": attempt, "text": text, "done": done}
    return Message("step.log", run_id, now_iso(), data)


class _LogFile:
    """One attempt's log and how far it has been read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    async def texts(self, final: bool = False) -> AsyncIterator[str]:
        """What was appended since the last read, in chunks; ``final`` flushes the decoder."""
        while True:
            chunk, start = await anyio.to_thread.run_sync(read_from, self.path, self.offset)
            if start < self.offset:
                self.decoder.reset()
            self.offset = start + len(chunk)
            last = len(chunk) < CHUNK_BYTES
            text = self.decoder.decode(chunk, final=final and last)
            if text:
                yield text
            if last:
                return


async def tail_step_log(
    sessions: sessionmaker[Session], data_dir: Path, run_id: str, step: str
) -> AsyncIterator[Message]:
    """The ``step.log`` messages of the step's log, until the step has ended (see above)."""
    attempt = 0
    log: _LogFile | None = None
    looks = 0
    while True:
        ended = False
        if looks % STATE_POLL_EVERY == 0:
            progress = await anyio.to_thread.run_sync(step_progress, sessions, run_id, step)
            if progress is None:
                return
            state, current = progress
            ended = state in ENDED_STATES
            if current != attempt:
                if log is not None:  # the rest of the previous attempt's log, then the new one
                    async for text in log.texts(final=True):
                        yield log_message(run_id, step, attempt, text, done=False)
                attempt = current
                log = _LogFile(workdir_path(data_dir, run_id, step, attempt) / LOG_FILE)
        looks += 1
        if log is not None:
            async for text in log.texts(final=ended):
                yield log_message(run_id, step, attempt, text, done=False)
        if ended:
            yield log_message(run_id, step, attempt, "", done=True)
            return
        await anyio.sleep(FILE_POLL_SECONDS)
