"""Missing values: empty text to null, fill (constant, statistic, down or up), interpolate, drop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, JsonValue

from datamill.datasets.types import STORAGE_TYPE, Column
from datamill.datasets.view import ROW_NUMBER, coerce_value
from datamill.operations.base import (
    Col,
    NumCol,
    Operation,
    OperationError,
    OrderedCol,
    Params,
    Plan,
    Table,
    TextCol,
    helper,
    ident,
    select_replacing,
)
from datamill.operations.numbers import finite as finite_values
from datamill.operations.rows import numbered_columns
from datamill.problems import field_error


class EmptyToNull(Params):
    columns: list[TextCol] | None = Field(
        default=None, description="Text columns (default: every text column)."
    )
    blank: bool = Field(default=True, description="Whitespace-only text counts as empty too.")


def empty_to_null(params: EmptyToNull, table: Table) -> Plan:
    chosen = params.columns or [c["name"] for c in table.columns if c["type"] == "text"]
    test = "trim({0}) = ''" if params.blank else "{0} = ''"
    replaced = {
        name: f"CASE WHEN {test.format(ident(name))} THEN NULL ELSE {ident(name)} END"
        for name in chosen
    }
    return Plan(f"SELECT {select_replacing(table, replaced)} FROM {table.source}")


class FillConstant(Params):
    column: Col
    value: JsonValue = Field(description='Read as the column\'s type ("2024-01-31" for a date).')

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        column = next(c for c in columns if c["name"] == self.column)
        if self.value is None:
            return [field_error(["value"], "a value is required")]
        try:
            coerce_value(self.value, column)
        except ValueError as problem:
            return [field_error(["value"], f"not a {column['type']} value: {problem}")]
        return []


def fill_constant(params: FillConstant, table: Table) -> Plan:
    column = table.column(params.column)
    value = coerce_value(params.value, column)
    filled = f"COALESCE({ident(params.column)}, CAST(? AS {STORAGE_TYPE[column['type']]}))"
    return _filling(table, params.column, filled, [value])


def _filling(table: Table, name: str, filled: str, values: list[Any]) -> Plan:
    """A plan replacing column ``name`` by ``filled``, counting the nulls it fills."""
    (nulls,) = table.one(f"SELECT count(*) - count({ident(name)}) FROM {table.source}")
    select = select_replacing(table, {name: filled})
    return Plan(f"SELECT {select} FROM {table.source}", values, details={"filled": nulls})


class FillStatistic(Params):
    column: Col
    statistic: Literal["mean", "median", "mode"]

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        kind = next(c["type"] for c in columns if c["name"] == self.column)
        if self.statistic != "mode" and kind not in ("int", "float"):
            return [
                field_error(["statistic"], f"the {self.statistic} of a {kind} column: use mode")
            ]
        return []


def fill_statistic(params: FillStatistic, table: Table) -> Plan:
    """Nulls replaced by the column's mean (NaN and infinities left out), median or most common
    value (the smallest of equally common ones, so the result is the same on every run). An int
    column filled with a mean or median keeps its type: the value is rounded."""
    column = table.column(params.column)
    name = ident(params.column)
    finite = finite_values(table, params.column)
    if params.statistic == "mean":
        statistic = f"avg({finite})"
    elif params.statistic == "median":
        statistic = f"median({finite})"
    else:
        statistic = (
            f"(SELECT _v FROM (SELECT {finite} AS _v FROM {table.source}) WHERE _v IS NOT NULL "
            "GROUP BY _v ORDER BY count(*) DESC, _v LIMIT 1)"
        )
    source = "" if params.statistic == "mode" else f" FROM {table.source}"
    (value,) = table.one(f"SELECT {statistic}{source}")
    if value is None:
        return _filling(table, params.column, name, [])
    storage = STORAGE_TYPE[column["type"]]
    if column["type"] == "int":  # half away from zero, as the round operation does
        value = int(math.copysign(math.floor(abs(value) + 0.5), value))
    plan = _filling(table, params.column, f"COALESCE({name}, CAST(? AS {storage}))", [value])
    return Plan(plan.select, plan.params, {**plan.details, "value": _json(value)})


def _json(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


class FillDirection(Params):
    columns: list[Col] = Field(min_length=1)
    direction: Literal["down", "up"] = "down"


def fill_direction(params: FillDirection, table: Table) -> Plan:
    """Each null takes the nearest value above (down) or below (up) it in the table's order."""
    numbered_columns(table)
    frame = (
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        if params.direction == "down"
        else "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"
    )
    pick = "last_value" if params.direction == "down" else "first_value"
    replaced = {
        name: f"{pick}({ident(name)} IGNORE NULLS) OVER (ORDER BY {ROW_NUMBER} {frame})"
        for name in params.columns
    }
    select = ", ".join(
        f"{replaced[n]} AS {ident(n)}" if n in replaced else ident(n) for n in table.names()
    )
    return Plan(f"SELECT {select} FROM {table.numbered} ORDER BY {ROW_NUMBER}")


class Interpolate(Params):
    column: NumCol
    method: Literal["linear", "time"] = "linear"
    index: OrderedCol | None = Field(
        default=None, description="For method time: the date or timestamp column to weigh by."
    )

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.method == "time":
            if self.index is None:
                return [field_error(["index"], "time interpolation needs a date or time column")]
            kind = next(c["type"] for c in columns if c["name"] == self.index)
            if kind not in ("date", "timestamp"):
                return [field_error(["index"], f"column {self.index!r} is {kind}, not a time")]
        elif self.index is not None:
            return [field_error(["index"], "an index is only used by method time")]
        return []


def interpolate(params: Interpolate, table: Table) -> Plan:
    """Nulls between two values become the straight line between them, by position (linear)
    or by the time column (time); nulls before the first or after the last value stay. An int
    column is rounded. Like pandas ``interpolate(limit_area="inside")``."""
    numbered_columns(table)
    name = ident(params.column)
    at = (
        f"epoch_us(CAST({ident(params.index)} AS TIMESTAMP))"
        if params.method == "time" and params.index
        else ROW_NUMBER
    )
    known = f"CASE WHEN {name} IS NOT NULL THEN"
    window = f"ORDER BY {ROW_NUMBER}"
    before = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    after = "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"
    # The helper columns get names no column of the table has.
    y0, x0, y1, x1, x = (ident(helper(table, h)) for h in ("_y0", "_x0", "_y1", "_x1", "_x"))
    inner = (
        f"SELECT *, "
        f"last_value({known} {name} END IGNORE NULLS) OVER ({window} {before}) AS {y0}, "
        f"last_value({known} {at} END IGNORE NULLS) OVER ({window} {before}) AS {x0}, "
        f"first_value({known} {name} END IGNORE NULLS) OVER ({window} {after}) AS {y1}, "
        f"first_value({known} {at} END IGNORE NULLS) OVER ({window} {after}) AS {x1}, "
        f"{at} AS {x} FROM {table.numbered}"
    )
    line = (
        f"CASE WHEN {x1} = {x0} THEN {y0} ELSE "
        f"{y0} + (CAST({y1} AS DOUBLE) - {y0}) * (CAST({x} AS DOUBLE) - {x0}) / ({x1} - {x0}) END"
    )
    if table.column(params.column)["type"] == "int":
        line = f"CAST(round({line}) AS BIGINT)"
    filled = f"COALESCE({name}, {line})"
    (nulls,) = table.one(f"SELECT count(*) - count({name}) FROM {table.source}")
    select = select_replacing(table, {params.column: filled})
    return Plan(
        f"SELECT {select} FROM ({inner}) ORDER BY {ROW_NUMBER}", details={"nulls_before": nulls}
    )


class DropMissing(Params):
    columns: list[Col] | None = Field(
        default=None, description="Drop rows with a null in any of these (default: any column)."
    )


def drop_missing(params: DropMissing, table: Table) -> Plan:
    chosen = params.columns or table.names()
    if not chosen:
        raise OperationError("the table has no columns")
    test = " AND ".join(f"{ident(c)} IS NOT NULL" for c in chosen)
    return Plan(f"SELECT * FROM {table.source} WHERE {test}")


def _op(name: str, summary: str, params: Any, plan: Any, example: dict[str, Any]) -> Operation[Any]:
    return Operation(name, "missing", summary, params, plan, example)


OPERATIONS: list[Operation[Any]] = [
    _op("empty-to-null", "Make empty (or blank) text null.", EmptyToNull, empty_to_null,
        {"columns": ["city"]}),
    _op("fill-constant", "Fill a column's nulls with a value.", FillConstant, fill_constant,
        {"column": "city", "value": "unknown"}),
    _op("fill-statistic", "Fill a column's nulls with its mean, median or most common value.",
        FillStatistic, fill_statistic, {"column": "price", "statistic": "mean"}),
    _op("fill-direction", "Fill nulls with the nearest value above (down) or below (up).",
        FillDirection, fill_direction, {"columns": ["city"], "direction": "down"}),
    _op("interpolate", "Fill nulls between two numbers on the straight line between them, by "
        "position or by time.", Interpolate, interpolate, {"column": "temperature"}),
    _op("drop-missing", "Drop rows with a null in the chosen columns.", DropMissing,
        drop_missing, {"columns": ["price"]}),
]  # fmt: skip
