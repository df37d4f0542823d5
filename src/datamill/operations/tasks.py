"""The operations as tasks: what a step running one pins, and the built-in ``op-*`` tasks.

Every operation is a task that pipelines may use without anyone registering it: ``op-`` and the
operation's name (``op-fill-statistic``), a table in, a table out, the operation's parameters.
The ``op-`` prefix is reserved: no registered task may take it. This is also the task each step
of a run of operations on a dataset pins (with a ``revision`` output: the revision it made).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datamill.operations.base import Operation
from datamill.operations.catalog import OPERATIONS
from datamill.pipelines.tasks import BUILTIN_PREFIX as PREFIX

TABLE = "table"
"""The name of an operation's table input and output."""
TIMEOUT = 86400
"""Seconds an operation may run: a day (bounded by the data, not by user code)."""
_BUILT = datetime(2026, 1, 1, tzinfo=UTC)


def task_name(operation: str) -> str:
    return PREFIX + operation


def task_document(
    operation: Operation[Any], queue: str = "default", *, revision: bool = False
) -> dict[str, Any]:
    """The task spec (as a document) of ``operation``; ``revision`` adds the output a step of
    a run of operations on a dataset reports."""
    outputs: dict[str, Any] = {TABLE: {"kind": "table"}, "changes": {"kind": "value"}}
    if revision:
        outputs["revision"] = {"kind": "value"}
    return {
        "name": task_name(operation.name),
        "description": operation.summary,
        "kind": "operation",
        "operation": operation.name,
        "inputs": {TABLE: {"kind": "table", "description": "The table to clean."}},
        "outputs": outputs,
        "params": operation.schema(),
        "queue": queue,
        "timeout": TIMEOUT,
    }


@dataclass(frozen=True)
class BuiltinTask:
    """A built-in task as the stores of registered tasks give one: id, name, time, spec."""

    id: str
    name: str
    updated_at: datetime
    spec: dict[str, Any]


def builtin_task(name: str) -> BuiltinTask | None:
    """The built-in task called ``name`` (``op-<operation>``), if there is one."""
    if not name.startswith(PREFIX):
        return None
    operation = OPERATIONS.get(name.removeprefix(PREFIX))
    if operation is None:
        return None
    return BuiltinTask(f"builtin:{name}", name, _BUILT, task_document(operation))
