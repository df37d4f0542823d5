"""Running an operation's plan into a new Parquet file: the one place operations touch files.

The new file is written with the same casts, row groups and compression as an upload
(:func:`~datamill.datasets.ingest.output.copy_select`), so every revision reads alike. What
changed — rows before and after, columns added, removed and retyped, and what the operation
counted — is returned for the history.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from datamill.datasets.ingest.output import copy_select, literal
from datamill.datasets.types import Column
from datamill.operations.base import Operation, OperationError, Params, Table

PROGRESS_SECONDS = 0.5

OnFraction = Callable[[float], None]


@dataclass(frozen=True)
class Applied:
    """The new table: its columns, its row count, and what changed."""

    columns: list[Column]
    rows: int
    changes: dict[str, Any]


def apply_operation(
    cursor: duckdb.DuckDBPyConnection,
    operation: Operation[Any],
    params: Params,
    source: Path,
    columns: Sequence[Column],
    out: Path,
    on_fraction: OnFraction | None = None,
    every: float = PROGRESS_SECONDS,
) -> Applied:
    """Apply ``operation`` to the Parquet file ``source`` (of ``columns``) and write ``out``.

    Raises :class:`OperationError` when the data makes it impossible (the message says why).
    """
    counted = cursor.execute(f"SELECT count(*) FROM read_parquet({literal(str(source))})")
    rows = int(counted.fetchall()[0][0])
    table = Table(source, list(columns), rows, cursor)
    try:
        plan = operation.plan(params, table)
    except duckdb.Error as problem:  # a statistic the data makes impossible, say
        raise OperationError(_reason(problem)) from None
    try:
        described = [
            (str(row[0]), str(row[1]))
            for row in cursor.execute(f"DESCRIBE {plan.select}", plan.params).fetchall()
        ]
    except duckdb.Error as problem:
        raise OperationError(_reason(problem)) from None
    names = [name for name, _ in described]
    folded = [name.casefold() for name in names]
    duplicated = sorted({name for name in names if folded.count(name.casefold()) > 1})
    if duplicated:
        raise OperationError(f"the result would have two columns named {duplicated[0]!r}")
    with _Progress(cursor, on_fraction, every):
        try:
            written, count = copy_select(cursor, plan.select, plan.params, described, names, out)
        except duckdb.Error as problem:
            raise OperationError(_reason(problem)) from None
    changes = {**describe_changes(list(columns), written, rows, count), **plan.details}
    return Applied(written, count, changes)


def describe_changes(
    before: list[Column], after: list[Column], rows_before: int, rows_after: int
) -> dict[str, Any]:
    """Rows before and after; columns added, removed and retyped (by name)."""
    old = {c["name"]: c["type"] for c in before}
    new = {c["name"]: c["type"] for c in after}
    return {
        "rows_before": rows_before,
        "rows_after": rows_after,
        "columns_added": [name for name in new if name not in old],
        "columns_removed": [name for name in old if name not in new],
        "columns_retyped": [
            {"column": name, "from": old[name], "to": kind}
            for name, kind in new.items()
            if name in old and old[name] != kind
        ],
    }


def _reason(problem: duckdb.Error) -> str:
    """DuckDB's message without its class prefix: what the user can act on."""
    text = str(problem)
    for prefix in ("Conversion Error: ", "Invalid Input Error: ", "Binder Error: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(problem).__name__


class _Progress:
    """Reports DuckDB's own progress of the running statement, every ``every`` seconds."""

    def __init__(
        self, cursor: duckdb.DuckDBPyConnection, on_fraction: OnFraction | None, every: float
    ) -> None:
        self._cursor = cursor
        self._on_fraction = on_fraction
        self._every = every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if self._on_fraction is not None:
            # DuckDB tracks a statement's progress only with its progress bar on (not printed).
            self._cursor.execute("SET enable_progress_bar = true")
            self._cursor.execute("SET enable_progress_bar_print = false")
            self._thread = threading.Thread(target=self._watch, name="operation-progress")
            self._thread.daemon = True
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        assert self._on_fraction is not None
        reported = 0.0
        while not self._done.wait(self._every):
            try:
                percent = float(self._cursor.query_progress())
            except (duckdb.Error, RuntimeError):
                return
            if reported < percent <= 100:  # only forward: a statement's phases restart at 0
                reported = percent
                self._on_fraction(percent / 100)
