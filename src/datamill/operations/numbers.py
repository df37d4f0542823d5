"""Number operations: normalise to a range, standardise, round, clip, bin.

Statistics (minimum, maximum, mean, standard deviation, quantiles) are taken over the finite
values: NaN and infinities are left out of them, and stay as they are in the result.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from datamill.datasets.types import Column
from datamill.operations.base import (
    NewCol,
    NumCol,
    Operation,
    OperationError,
    Params,
    Plan,
    Table,
    ident,
    select_replacing,
    unique_name,
)
from datamill.problems import field_error

MAX_BINS = 1000


def finite(table: Table, name: str) -> str:
    """The column as an aggregate's argument: its finite values only."""
    column = ident(name)
    if table.column(name)["type"] == "float":
        return f"CASE WHEN isfinite({column}) THEN {column} END"
    return column


def as_double(name: str) -> str:
    return f"CAST({ident(name)} AS DOUBLE)"


class Normalize(Params):
    column: NumCol
    low: float = Field(default=0.0, allow_inf_nan=False)
    high: float = Field(default=1.0, allow_inf_nan=False)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.high <= self.low:
            return [field_error(["high"], "high must be greater than low")]
        return []


def normalize(params: Normalize, table: Table) -> Plan:
    """Min-max scaling to [low, high]; a constant column becomes ``low``."""
    lo, hi = table.one(
        f"SELECT min({finite(table, params.column)}), max({finite(table, params.column)}) "
        f"FROM {table.source}"
    )
    value = as_double(params.column)
    if lo is None or hi == lo:
        scaled = f"CASE WHEN isfinite({value}) THEN CAST(? AS DOUBLE) ELSE {value} END"
        values: list[Any] = [params.low]
    else:
        # Halves, so that the span of values near the ends of the doubles stays finite.
        scaled = f"(({value} / 2 - ? / 2) / (? / 2 - ? / 2)) * (? - ?) + ?"
        values = [lo, hi, lo, params.high, params.low, params.low]
    select = select_replacing(table, {params.column: scaled})
    return Plan(f"SELECT {select} FROM {table.source}", values, {"min": lo, "max": hi})


class Standardize(Params):
    column: NumCol


def standardize(params: Standardize, table: Table) -> Plan:
    """z = (x - mean) / standard deviation (of the sample, as pandas); a column whose
    deviation is 0 or undefined becomes 0."""
    mean, std = table.one(
        f"SELECT avg({finite(table, params.column)}), stddev_samp({finite(table, params.column)}) "
        f"FROM {table.source}"
    )
    value = as_double(params.column)
    if mean is None or not std:
        scaled = f"CASE WHEN isfinite({value}) THEN 0.0 ELSE {value} END"
        values: list[Any] = []
    else:
        scaled = f"({value} - ?) / ?"
        values = [mean, std]
    select = select_replacing(table, {params.column: scaled})
    return Plan(f"SELECT {select} FROM {table.source}", values, {"mean": mean, "std": std})


class Round(Params):
    column: NumCol
    digits: int = Field(default=0, ge=-15, le=15, description="Negative: tens, hundreds...")


def round_(params: Round, table: Table) -> Plan:
    """Half away from zero, as spreadsheets round (2.5 to 3, -2.5 to -3)."""
    column = ident(params.column)
    if table.column(params.column)["type"] == "int":
        if params.digits >= 0:
            return Plan(f"SELECT * FROM {table.source}")
        rounded = f"CAST(round({column}, {params.digits}) AS BIGINT)"
    else:
        rounded = f"round({column}, {params.digits})"
    return Plan(f"SELECT {select_replacing(table, {params.column: rounded})} FROM {table.source}")


class Clip(Params):
    column: NumCol
    lower: float | None = Field(default=None, allow_inf_nan=False)
    upper: float | None = Field(default=None, allow_inf_nan=False)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.lower is None and self.upper is None:
            return [field_error(["lower"], "give a lower bound, an upper bound or both")]
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            return [field_error(["upper"], "upper must not be less than lower")]
        return []


def clip(params: Clip, table: Table) -> Plan:
    kind = table.column(params.column)["type"]
    held = clipped(params.column, kind, params.lower, params.upper)
    return Plan(f"SELECT {select_replacing(table, {params.column: held})} FROM {table.source}")


def clipped(name: str, kind: str, lower: float | None, upper: float | None) -> str:
    """SQL for the column held within [lower, upper]; NaN stays NaN. Bounds of an int column
    are rounded inwards, so it stays int."""
    value = ident(name)
    lower = lower if lower is not None and math.isfinite(lower) else None  # beyond any double
    upper = upper if upper is not None and math.isfinite(upper) else None
    bounds: tuple[str | None, str | None]
    if kind == "int":  # within BIGINT too, or DuckDB would widen the column
        low, high = -(2**63), 2**63 - 1
        bounds = (
            None if lower is None else str(min(max(math.ceil(lower), low), high)),
            None if upper is None else str(min(max(math.floor(upper), low), high)),
        )
    else:
        bounds = (
            None if lower is None else f"CAST({lower!r} AS DOUBLE)",
            None if upper is None else f"CAST({upper!r} AS DOUBLE)",
        )
    if bounds[0] is not None:
        value = f"greatest({value}, {bounds[0]})"
    if bounds[1] is not None:
        value = f"least({value}, {bounds[1]})"
    # greatest() and least() skip nulls, and NaN is DuckDB's largest float: both stay as they are
    untouched = f"{ident(name)} IS NULL" + (f" OR isnan({ident(name)})" if kind == "float" else "")
    return f"CASE WHEN {untouched} THEN {ident(name)} ELSE {value} END"


class Bin(Params):
    column: NumCol
    method: Literal["equal-width", "quantile", "edges"] = "equal-width"
    bins: int = Field(default=10, ge=1, le=MAX_BINS)
    edges: list[float] | None = Field(
        default=None, max_length=MAX_BINS + 1, description="For method edges: increasing."
    )
    name: NewCol | None = Field(default=None, description="Default: <column>_bin.")

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.method == "edges":
            edges = self.edges or []
            if len(edges) < 2:
                return [field_error(["edges"], "give at least two edges")]
            if any(not math.isfinite(e) for e in edges):
                return [field_error(["edges"], "edges are finite numbers")]
            if any(b <= a for a, b in itertools.pairwise(edges)):
                return [field_error(["edges"], "edges must increase")]
        elif self.edges is not None:
            return [field_error(["edges"], "edges are only used by method edges")]
        return []


def bin_(params: Bin, table: Table) -> Plan:
    """A text label per value: ``[a, b)``, the last bin closed ``[a, b]``. Values outside the
    edges (and NaN, infinities, nulls) get no label."""
    edges = _edges(params, table)
    value = as_double(params.column)
    cases = []
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        last = index == len(edges) - 2
        test = f"{value} >= {low!r} AND {value} {'<=' if last else '<'} {high!r}"
        test = f"isfinite({value}) AND {test}"
        label = f"[{_number(low)}, {_number(high)}{']' if last else ')'}"
        cases.append(f"WHEN {test} THEN '{label}'")
    label_sql = f"CASE {' '.join(cases)} END" if cases else "CAST(NULL AS VARCHAR)"
    name = params.name or unique_name(f"{params.column}_bin", table.names())
    items = []
    for column in table.names():
        items.append(ident(column))
        if column == params.column:
            items.append(f"{label_sql} AS {ident(name)}")
    return Plan(f"SELECT {', '.join(items)} FROM {table.source}", details={"edges": edges})


def _edges(params: Bin, table: Table) -> list[float]:
    if params.method == "edges":
        return [float(e) for e in params.edges or []]
    source = finite(table, params.column)
    if params.method == "equal-width":
        lo, hi = table.one(f"SELECT min({source}), max({source}) FROM {table.source}")
        if lo is None:
            return []
        if lo == hi:
            return [float(lo), float(hi)]
        width = (float(hi) - float(lo)) / params.bins
        return [float(lo) + i * width for i in range(params.bins)] + [float(hi)]
    points = [i / params.bins for i in range(params.bins + 1)]
    (found,) = table.one(f"SELECT quantile_cont({source}, {points!r}) FROM {table.source}")
    if found is None:
        return []
    edges: list[float] = []
    for edge in found:
        if not edges or float(edge) > edges[-1]:
            edges.append(float(edge))
    if len(edges) == 1:
        edges.append(edges[0])
    return edges


def _number(value: float) -> str:
    """A bin edge as its label shows it: up to 6 significant digits, no exponent when small."""
    text = f"{value:.6g}"
    if text == "-0":
        return "0"
    if len(text) > 20:
        raise OperationError("an edge is too large to label")
    return text


def _op(name: str, summary: str, params: Any, plan: Any, example: dict[str, Any]) -> Operation[Any]:
    return Operation(name, "numbers", summary, params, plan, example)


OPERATIONS: list[Operation[Any]] = [
    _op("normalize", "Scale a number column to a range (min-max).", Normalize, normalize,
        {"column": "price", "low": 0, "high": 1}),
    _op("standardize", "Replace numbers by their z-score.", Standardize, standardize,
        {"column": "price"}),
    _op("round", "Round numbers to some digits (half away from zero).", Round, round_,
        {"column": "price", "digits": 2}),
    _op("clip", "Hold numbers within bounds.", Clip, clip, {"column": "price", "lower": 0}),
    _op("bin", "Label numbers by bin: equal-width, quantiles or given edges.", Bin, bin_,
        {"column": "age", "method": "edges", "edges": [0, 18, 65, 120]}),
]  # fmt: skip
