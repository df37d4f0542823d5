"""What one WebSocket client asked to receive, and the client messages that change it.

Each filter narrows the events it concerns and leaves the others alone: ``types`` applies to
every event, ``runs`` to run and step events, ``datasets`` to dataset events. A filter that is
not set lets everything through (that the client may see); a list lets exactly its members
through, so an empty list lets none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from datamill.db.models import looks_like_id
from datamill.pipelines.names import SLUG

RUN_TYPES = frozenset({"run.updated", "step.updated", "step.progress"})
DATASET_TYPES = frozenset({"dataset.revision"})
WORKER_TYPES = frozenset({"worker.updated"})
EVENT_TYPES = RUN_TYPES | DATASET_TYPES | WORKER_TYPES
"""The event types a client can subscribe to; ``step.log`` comes only with ``follow_log``."""
MAX_IDS = 1000
"""Ids one filter may list: enough for any screen, bounded for memory."""
MAX_MESSAGE_CHARS = 64 * 1024
FILTER_KEYS = ("types", "runs", "datasets")


class FilterError(ValueError):
    """A client message or query parameter that means nothing; the text says why."""


@dataclass(frozen=True)
class Filters:
    types: frozenset[str] | None = None
    runs: frozenset[str] | None = None
    datasets: frozenset[str] | None = None

    def matches(self, event_type: str, subject: str) -> bool:
        """Whether an event of ``event_type`` about ``subject`` (its ``id``) passes."""
        if self.types is not None and event_type not in self.types:
            return False
        if event_type in RUN_TYPES and self.runs is not None:
            return subject in self.runs
        if event_type in DATASET_TYPES and self.datasets is not None:
            return subject in self.datasets
        return True

    def changed(self, update: Mapping[str, Any]) -> Filters:
        """These filters with those ``update`` names replaced (``None`` removes a filter)."""
        unknown = sorted(set(update) - set(FILTER_KEYS))
        if unknown:
            raise FilterError(f"unknown filter {unknown[0]!r}; use {', '.join(FILTER_KEYS)}")
        values: dict[str, frozenset[str] | None] = {}
        for key, value in update.items():
            values[key] = None if value is None else _checked(key, _strings(key, value))
        return replace(self, **values)

    def public(self) -> dict[str, list[str] | None]:
        return {key: _sorted(getattr(self, key)) for key in FILTER_KEYS}


def filters_from_query(query: Mapping[str, Sequence[str]]) -> Filters:
    """Filters from ``?types=a,b&run=<id>&dataset=<id>`` (repeated or comma-separated)."""
    update: dict[str, list[str]] = {}
    for param, key in (("types", "types"), ("run", "runs"), ("dataset", "datasets")):
        if param in query:
            update[key] = [part for value in query[param] for part in value.split(",") if part]
    return Filters().changed(update)


@dataclass(frozen=True)
class Subscribe:
    update: dict[str, Any]


@dataclass(frozen=True)
class FollowLog:
    run: str
    step: str
    follow: bool


ClientMessage = Subscribe | FollowLog


def parse_client_message(text: str) -> ClientMessage:
    """The request a client sent: ``subscribe``, ``follow_log`` or ``unfollow_log``."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise FilterError(f"a message is at most {MAX_MESSAGE_CHARS} characters")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise FilterError(f"not JSON: {error}") from None
    if not isinstance(value, dict) or len(value) != 1:
        raise FilterError(
            'send one object with one key: "subscribe", "follow_log" or "unfollow_log"'
        )
    ((kind, body),) = value.items()
    if not isinstance(body, dict):
        raise FilterError(f"{kind!r} takes an object")
    if kind == "subscribe":
        Filters().changed(body)  # checked now, so that an error leaves the filters as they were
        return Subscribe(body)
    if kind in ("follow_log", "unfollow_log"):
        run, step = body.get("run"), body.get("step")
        if not isinstance(run, str) or not looks_like_id(run):
            raise FilterError(f"{kind}.run must be a run id")
        if not isinstance(step, str) or not SLUG.fullmatch(step):
            raise FilterError(f"{kind}.step must be a step name")
        return FollowLog(run, step, kind == "follow_log")
    raise FilterError(f'unknown request {kind!r}; use "subscribe", "follow_log" or "unfollow_log"')


def _strings(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FilterError(f"{key} must be a list of strings or null")
    if len(value) > MAX_IDS:
        raise FilterError(f"{key} lists at most {MAX_IDS} values")
    return value


def _checked(key: str, values: Iterable[str]) -> frozenset[str]:
    found = frozenset(values)
    for value in sorted(found):
        if key == "types" and value not in EVENT_TYPES:
            raise FilterError(f"unknown event type {value!r}; use {', '.join(sorted(EVENT_TYPES))}")
        if key != "types" and not looks_like_id(value):
            raise FilterError(f"{key} holds {value[:40]!r}, which is not an id")
    return found


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)
