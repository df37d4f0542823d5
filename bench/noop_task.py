"""The no-op task of ``bench/runs.py``: ``function: noop_task:noop``, with ``bench/`` on the
workers' import path, so that what is measured is Datamill's cost per run, not the task's."""

from __future__ import annotations


def noop() -> dict[str, object]:
    """Nothing to do, no outputs."""
    return {}
