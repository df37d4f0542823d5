from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from datamill.schemas.common import ListReply, Public, UTCTime

WorkerState = Literal["up", "down", "lost"]


class RunningStep(Public):
    run_id: str | None = Field(
        description="`null` for a run the caller cannot see (another member's, to a member)."
    )
    step: str | None = Field(description="`null` when `run_id` is.")
    attempt: int
    started_at: UTCTime | None


class WorkerPublic(Public):
    id: str
    hostname: str
    pid: int
    queues: list[str] = Field(description='The queues it serves; `"*"` means every queue.')
    state: WorkerState = Field(
        description="`lost` when it is not marked down but its heartbeats stopped."
    )
    started_at: UTCTime
    last_heartbeat_at: UTCTime
    running: list[RunningStep] = Field(description="The step attempts it runs now.")


class QueueDepth(BaseModel):
    name: str
    depth: int = Field(description="Steps dispatched to this queue and not started yet.")


class WorkersReply(ListReply[WorkerPublic]):
    queues: list[QueueDepth]
