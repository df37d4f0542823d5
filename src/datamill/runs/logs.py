"""Step logs: reading an attempt's ``log.txt``, and following it while the attempt runs.

The path is built from checked names only (the run's id, a step name of the run, an attempt
number), never from what the caller typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import Run, RunStep
from datamill.problems import NotFound
from datamill.runs.queries import run_step
from datamill.runs.workdir import LOG_FILE, workdir_path

POLL_SECONDS = 0.25
CHUNK_BYTES = 64 * 1024
LIVE_STATES = frozenset({"queued", "running"})


@dataclass(frozen=True)
class StepLog:
    run_id: str
    step: str
    attempt: int
    path: Path


def step_log(
    db: Session, settings: Settings, run: Run, step: str, attempt: int | None, *, follow: bool
) -> StepLog:
    """The log of ``attempt`` of ``step`` (default: its latest attempt).

    404 for an attempt not dispatched yet, and for a log not written yet, unless the caller
    follows the attempt that is still to run or running: then the log is waited for.
    """
    row = run_step(db, run, step)
    if row.attempt == 0:
        raise NotFound(f"The step {step!r} has not started yet: it has no log.")
    number = row.attempt if attempt is None else attempt
    if number > row.attempt:
        raise NotFound(
            f"The step {step!r} has had {row.attempt} attempt{'s' if row.attempt > 1 else ''}; "
            f"there is no attempt {number}."
        )
    found = StepLog(
        run.id, step, number, workdir_path(settings.data_dir, run.id, step, number) / LOG_FILE
    )
    waiting = follow and number == row.attempt and row.state in LIVE_STATES
    if not waiting and not found.path.is_file():
        raise NotFound(f"Attempt {number} of the step {step!r} wrote no log yet.")
    return found


def attempt_live(sessions: sessionmaker[Session], log: StepLog) -> bool:
    """Whether the attempt may still write to its log (dispatched or running)."""
    with sessions() as db:
        row = db.execute(
            select(RunStep.state, RunStep.attempt).where(
                RunStep.run_id == log.run_id, RunStep.name == log.step
            )
        ).first()
    return row is not None and row.attempt == log.attempt and row.state in LIVE_STATES


async def follow_log(
    sessions: sessionmaker[Session], log: StepLog, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[bytes]:
    """The log's bytes as they are written, until the attempt ends or the client goes away.

    The state is read before the file each round, so the bytes written before the attempt
    ended are always sent.
    """
    offset = 0
    while True:
        live = await run_in_threadpool(attempt_live, sessions, log)
        while chunk := await run_in_threadpool(_read_from, log.path, offset):
            offset += len(chunk)
            yield chunk
        if not live or await disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(CHUNK_BYTES)
    except FileNotFoundError:
        return b""
