"""Encoding: one-hot (dummy) columns for the values of a column."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from datamill.datasets.ingest.output import literal
from datamill.datasets.view import text_form
from datamill.operations.base import (
    Col,
    Operation,
    OperationError,
    Params,
    Plan,
    Table,
    ident,
    unique_name,
)

MAX_CATEGORIES = 1000


class OneHot(Params):
    column: Col
    top: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CATEGORIES,
        description="Only the most common values (ties by value); default: every value.",
    )
    prefix: str | None = Field(default=None, max_length=100, description="Default: <column>_.")
    drop_original: bool = False


def one_hot(params: OneHot, table: Table) -> Plan:
    """A boolean column ``<prefix><value>`` per value (its text as the grid shows it), beside the
    column: true where the row has that value, false elsewhere (nulls too), as pandas'
    ``get_dummies``. Values are ordered by count, most common first, then by text."""
    column = table.column(params.column)
    text = text_form(column)
    limit = params.top if params.top is not None else MAX_CATEGORIES + 1
    values = [
        row[0]
        for row in table.cursor.execute(
            f"SELECT {text} AS v FROM {table.source} WHERE {ident(params.column)} IS NOT NULL "
            f"GROUP BY v ORDER BY count(*) DESC, v LIMIT {int(limit)}"
        ).fetchall()
    ]
    if params.top is None and len(values) > MAX_CATEGORIES:
        raise OperationError(
            f"{params.column!r} has more than {MAX_CATEGORIES} distinct values: "
            f"choose the top ones (top: {MAX_CATEGORIES} at most)"
        )
    prefix = params.prefix if params.prefix is not None else f"{params.column}_"
    taken = [n for n in table.names() if not (params.drop_original and n == params.column)]
    dummies = []
    for value in values:
        name = unique_name(f"{prefix}{value}", taken)
        taken.append(name)
        dummies.append(f"COALESCE({text} = {literal(value)}, FALSE) AS {ident(name)}")
    items = []
    for existing in table.names():
        if not (params.drop_original and existing == params.column):
            items.append(ident(existing))
        if existing == params.column:
            items.extend(dummies)
    if not items:
        raise OperationError("the column has no values and would be the only one dropped")
    return Plan(f"SELECT {', '.join(items)} FROM {table.source}", details={"values": len(values)})


OPERATIONS: list[Operation[Any]] = [
    Operation(
        "one-hot",
        "encoding",
        "One true/false column per value of a column (dummies), beside it.",
        OneHot,
        one_hot,
        {"column": "city", "top": 20},
    )
]
