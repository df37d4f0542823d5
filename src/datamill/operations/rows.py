"""Row operations: delete selected rows, filter, sort, drop duplicates, sample."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, JsonValue

from datamill.datasets.types import Column
from datamill.datasets.view import (
    MAX_ITEMS,
    ROW_NUMBER,
    FilterOp,
    View,
    order_clause,
    parse_view,
    where_clause,
)
from datamill.datasets.view import SortKey as ViewSortKey
from datamill.operations.base import (
    Col,
    Operation,
    OperationError,
    Params,
    Plan,
    Table,
    helper,
    ident,
)
from datamill.operations.expressions import ExpressionError, as_sql, check_expression
from datamill.problems import Invalid, field_error

MAX_SELECTED_ROWS = 100_000


def numbered_columns(table: Table) -> str:
    """The table's own columns, for a select over :attr:`Table.numbered`."""
    if ROW_NUMBER in table.names():
        raise OperationError(
            f"this operation needs row positions, and a column named {ROW_NUMBER!r} hides "
            "them: rename that column first"
        )
    return ", ".join(ident(name) for name in table.names())


class DeleteRows(Params):
    rows: list[int] = Field(
        min_length=1,
        max_length=MAX_SELECTED_ROWS,
        description="Positions of the rows in the revision, from 0 (the grid's row numbers).",
    )

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        return [
            field_error(["rows", index], f"there is no row {row}: the table has {rows} rows")
            for index, row in enumerate(self.rows)
            if not 0 <= row < rows
        ][:10]


def delete_rows(params: DeleteRows, table: Table) -> Plan:
    names = numbered_columns(table)
    return Plan(
        f"SELECT {names} FROM {table.numbered} WHERE NOT list_contains(?, {ROW_NUMBER})",
        [sorted(set(params.rows))],
    )


class Condition(Params):
    """A filter the way the grid writes one: ``{column, op, value}``."""

    column: Col
    op: FilterOp = Field(description="As in the rows API's filter.")
    value: JsonValue = None


class FilterRows(Params):
    conditions: list[Condition] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ITEMS,
        description="Grid filters, all of which a row must match (the ops of the rows API).",
    )
    expression: str | None = Field(
        default=None,
        max_length=4000,
        description="Or a SQL condition over the row's columns, such as price > 10 AND city = "
        "'Oslo'.",
    )
    keep: bool = Field(default=True, description="Keep the matching rows (else drop them).")

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if (self.conditions is None) == (self.expression is None):
            return [field_error(["conditions"], "give either conditions or an expression")]
        if self.expression is not None:
            try:
                kind = check_expression(self.expression, columns)
            except ExpressionError as problem:
                return [field_error(["expression"], str(problem))]
            if kind != "bool":
                return [field_error(["expression"], f"the condition is {kind}, not true/false")]
            return []
        try:
            self.view(list(columns))
        except Invalid as problem:
            return [
                field_error(["conditions", *error["loc"][2:]], error["msg"])
                for error in problem.errors or []
            ]
        return []

    def view(self, columns: list[Column]) -> View:
        conditions = [c.model_dump(exclude_unset=True) for c in self.conditions or []]
        return parse_view(None, json.dumps(conditions), None, columns)


def filter_rows(params: FilterRows, table: Table) -> Plan:
    if params.expression is not None:
        condition, values = as_sql(params.expression), list[Any]()
    else:
        where, values = where_clause(params.view(table.columns), table.columns)
        condition = where.removeprefix("WHERE ") or "TRUE"
    test = condition if params.keep else f"NOT COALESCE({condition}, FALSE)"
    return Plan(f"SELECT * FROM {table.source} WHERE {test}", values)


class SortKey(Params):
    column: Col
    desc: bool = False


class SortRows(Params):
    keys: list[SortKey] = Field(min_length=1, max_length=MAX_ITEMS)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        names = [key.column for key in self.keys]
        return [
            field_error(["keys", i, "column"], f"{name!r} is already a sort key")
            for i, name in enumerate(names)
            if name in names[:i]
        ]


def sort_rows(params: SortRows, table: Table) -> Plan:
    view = View(sort=tuple(ViewSortKey(k.column, k.desc) for k in params.keys))
    names = numbered_columns(table)
    return Plan(f"SELECT {names} FROM {table.numbered} {order_clause(view)}")


class DropDuplicates(Params):
    columns: list[Col] | None = Field(
        default=None, description="Rows are duplicates when equal on these (default: all)."
    )
    keep: Literal["first", "last", "none"] = "first"


def drop_duplicates(params: DropDuplicates, table: Table) -> Plan:
    names = numbered_columns(table)
    keys = ", ".join(ident(c) for c in (params.columns or table.names()))
    if params.keep == "none":
        counted = f"count(*) OVER (PARTITION BY {keys})"
        n = ident(helper(table, "_n"))
        inner = f"SELECT {names}, {ROW_NUMBER}, {counted} AS {n} FROM {table.numbered}"
        return Plan(f"SELECT {names} FROM ({inner}) WHERE {n} = 1 ORDER BY {ROW_NUMBER}")
    chosen = "min" if params.keep == "first" else "max"
    kept = f"SELECT {chosen}({ROW_NUMBER}) FROM {table.numbered} GROUP BY {keys}"
    return Plan(
        f"SELECT {names} FROM {table.numbered} WHERE {ROW_NUMBER} IN ({kept}) ORDER BY {ROW_NUMBER}"
    )


class SampleRows(Params):
    count: int | None = Field(default=None, ge=0)
    fraction: float | None = Field(default=None, ge=0, le=1)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if (self.count is None) == (self.fraction is None):
            return [field_error(["count"], "give either a count or a fraction")]
        return []


def sample_rows(params: SampleRows, table: Table) -> Plan:
    """A reproducible sample in the table's order: the rows with the smallest hash of their
    position and the seed (the same seed and table give the same rows on every engine run)."""
    wanted = (
        params.count if params.count is not None else round((params.fraction or 0) * table.rows)
    )
    names = numbered_columns(table)
    ranked = f"hash({ROW_NUMBER}, {int(params.seed)})"
    chosen = (
        f"SELECT {ROW_NUMBER} FROM {table.numbered} "
        f"ORDER BY {ranked}, {ROW_NUMBER} LIMIT {int(wanted)}"
    )
    return Plan(
        f"SELECT {names} FROM {table.numbered} WHERE {ROW_NUMBER} IN ({chosen}) "
        f"ORDER BY {ROW_NUMBER}"
    )


def _op(name: str, summary: str, params: Any, plan: Any, example: dict[str, Any]) -> Operation[Any]:
    return Operation(name, "rows", summary, params, plan, example)


OPERATIONS: list[Operation[Any]] = [
    _op("delete-rows", "Delete the rows at the given positions.", DeleteRows, delete_rows,
        {"rows": [0, 5]}),
    _op("filter-rows", "Keep (or drop) the rows matching grid filters or a SQL condition.",
        FilterRows, filter_rows,
        {"conditions": [{"column": "price", "op": "gt", "value": 10}], "keep": True}),
    _op("sort-rows", "Sort the rows (nulls last); ties keep their order.", SortRows, sort_rows,
        {"keys": [{"column": "city"}, {"column": "price", "desc": True}]}),
    _op("drop-duplicates", "Drop rows equal on the chosen columns, keeping the first, the last "
        "or none of each group.", DropDuplicates, drop_duplicates,
        {"columns": ["city", "date"], "keep": "first"}),
    _op("sample-rows", "Keep a reproducible random sample of rows (a count or a fraction).",
        SampleRows, sample_rows, {"fraction": 0.1, "seed": 42}),
]  # fmt: skip
