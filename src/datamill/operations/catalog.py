"""The catalogue of operations, by name, and checking a request's parameters against a table.

Every operation is listed here once; its family module holds its parameters and its plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from datamill.datasets.types import Column
from datamill.operations import (
    cells,
    clustering,
    columns,
    encoding,
    missing,
    numbers,
    outliers,
    rows,
    text,
)
from datamill.operations.base import Operation, Params, column_errors
from datamill.problems import Invalid, field_error

OPERATIONS: dict[str, Operation[Any]] = {
    operation.name: operation
    for module in (columns, rows, missing, text, numbers, outliers, encoding, cells, clustering)
    for operation in module.OPERATIONS
}


def get_operation(name: str, loc: Sequence[str | int] = ("body", "op")) -> Operation[Any]:
    """The operation called ``name``; ``Invalid`` at ``loc`` otherwise."""
    operation = OPERATIONS.get(name)
    if operation is None:
        message = f"unknown operation {name[:80]!r}; GET /api/v1/operations lists them"
        raise Invalid(f"There is no operation {name[:80]!r}.", errors=[field_error(loc, message)])
    return operation


def check_params(
    operation: Operation[Any],
    raw: Mapping[str, Any],
    table_columns: Sequence[Column],
    row_count: int,
    loc: Sequence[str | int] = ("body", "params"),
) -> Params:
    """``raw`` parsed by the operation's parameter model and checked against the table's
    columns and rows, or ``Invalid`` naming every bad field (``loc`` prefixed)."""
    try:
        params: Params = operation.params.model_validate(raw)
    except ValidationError as problem:
        errors = [field_error([*loc, *error["loc"]], _message(error)) for error in problem.errors()]
        raise Invalid(_summary(operation, errors), errors=errors) from None
    found = column_errors(params, table_columns, row_count)
    if found:
        errors = [field_error([*loc, *error["loc"]], error["msg"]) for error in found]
        raise Invalid(_summary(operation, errors), errors=errors)
    return params


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown parameter"
    return str(error["msg"])


def _summary(operation: Operation[Any], errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"The parameters of {operation.name} are not valid: {where}: {first['msg']}{more}."


def describe(operation: Operation[Any]) -> dict[str, Any]:
    """The operation as ``GET /api/v1/operations`` lists it."""
    return {
        "name": operation.name,
        "family": operation.family,
        "description": operation.summary,
        "params": operation.schema(),
        "example": dict(operation.example),
    }
