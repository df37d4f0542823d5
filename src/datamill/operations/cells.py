"""Cells: edit one cell, the value read as the column's type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, JsonValue

from datamill.datasets.types import STORAGE_TYPE, Column
from datamill.datasets.view import ROW_NUMBER, coerce_value
from datamill.operations.base import Col, Operation, Params, Plan, Table, ident
from datamill.operations.rows import numbered_columns
from datamill.problems import field_error


class EditCell(Params):
    row: int = Field(ge=0, description="The row's position in the revision, from 0.")
    column: Col
    value: JsonValue = Field(description="The new value (null empties the cell).")

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        errors = []
        if self.row >= rows:
            errors.append(field_error(["row"], f"there is no row {self.row}: the table has {rows}"))
        column = next(c for c in columns if c["name"] == self.column)
        if self.value is not None:
            try:
                coerce_value(self.value, column)
            except ValueError as problem:
                errors.append(field_error(["value"], f"not a {column['type']} value: {problem}"))
        return errors


def edit_cell(params: EditCell, table: Table) -> Plan:
    column = table.column(params.column)
    value = None if params.value is None else coerce_value(params.value, column)
    storage = STORAGE_TYPE[column["type"]]
    numbered_columns(table)
    edited = f"CASE WHEN {ROW_NUMBER} = ? THEN CAST(? AS {storage}) ELSE {ident(params.column)} END"
    select = ", ".join(
        f"{edited} AS {ident(n)}" if n == params.column else ident(n) for n in table.names()
    )
    return Plan(f"SELECT {select} FROM {table.numbered} ORDER BY {ROW_NUMBER}", [params.row, value])


OPERATIONS: list[Operation[Any]] = [
    Operation(
        "edit-cell",
        "cells",
        "Set one cell to a value of its column's type.",
        EditCell,
        edit_cell,
        {"row": 0, "column": "city", "value": "Oslo"},
    )
]
