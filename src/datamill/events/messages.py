"""The events pushed to browsers and clients: one JSON shape for every kind.

``{"type": "run.updated", "id": <run id>, "at": "2026-11-22T22:54:39.123Z", "data": {...}}``, as
``DESIGN.md`` fixes it. ``id`` names the object the event is about (a run, a dataset, a worker);
run and step events also carry ``data.run_id`` so that a subscriber filters them alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from datamill.db.models import Revision
from datamill.runs.effects import Event, HeadMoved, RunUpdated, StepUpdated


@dataclass(frozen=True)
class Message:
    """One event as it travels on the bus and over the WebSocket."""

    type: str
    id: str
    at: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Message:
        """The message ``raw`` holds; ``ValueError`` when it is not one."""
        value = orjson.loads(raw)
        if not isinstance(value, dict) or not {"type", "id", "at"} <= value.keys():
            raise ValueError("not an event message")
        data = value.get("data") or {}
        if not isinstance(data, dict):
            raise ValueError("an event's data must be an object")
        return cls(str(value["type"]), str(value["id"]), str(value["at"]), data)


def iso(seconds: float) -> str:
    """Seconds since the epoch as the API writes times: ISO 8601 in UTC with ``Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(UTC).timestamp())


def run_message(run_id: str, event: Event) -> Message:
    """The wire message of an event a run transition emitted."""
    if isinstance(event, RunUpdated):
        return Message(event.type, run_id, iso(event.at), {"run_id": run_id, "state": event.state})
    if isinstance(event, HeadMoved):
        return head_message(event, run_id)
    assert isinstance(event, StepUpdated)
    data = {
        "run_id": run_id,
        "step": event.step,
        "state": event.state,
        "attempt": event.attempt,
        "worker": event.worker,
        "error": event.error,
        "next_attempt_at": None if event.next_attempt_at is None else iso(event.next_attempt_at),
    }
    return Message(event.type, run_id, iso(event.at), data)


def progress_message(
    run_id: str, step: str, attempt: int, fraction: float, message: str | None
) -> Message:
    """The ``step.progress`` event: how far a running attempt says it has got (0 to 1)."""
    data = {
        "run_id": run_id,
        "step": step,
        "attempt": attempt,
        "fraction": fraction,
        "message": message,
    }
    return Message("step.progress", run_id, now_iso(), data)


def revision_message(revision: Revision, at: float | None = None) -> Message:
    """The ``dataset.revision`` event telling that a dataset's head is ``revision`` (new, or
    moved to by undo and redo: then ``at`` is when)."""
    moved = HeadMoved(
        revision.dataset_id,
        revision.id,
        revision.number,
        revision.row_count,
        tuple((c["name"], c["type"]) for c in revision.columns),
        revision.created_at.timestamp() if at is None else at,
    )
    return head_message(moved)


def head_message(event: HeadMoved, run_id: str | None = None) -> Message:
    data: dict[str, Any] = {
        "dataset_id": event.dataset,
        "revision_id": event.revision,
        "number": event.number,
        "rows": event.rows,
        "columns": [{"name": name, "type": kind} for name, kind in event.columns],
    }
    if run_id is not None:
        data["run_id"] = run_id
    return Message(event.type, event.dataset, iso(event.at), data)
