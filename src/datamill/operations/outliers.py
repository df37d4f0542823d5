"""Outliers: found by z-score, trimmed mean and deviation, or IQR fences; then flagged, made
null, clipped or deleted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from datamill.datasets.types import Column
from datamill.operations.base import (
    NewCol,
    NumCol,
    Operation,
    Params,
    Plan,
    Table,
    ident,
    select_replacing,
    unique_name,
)
from datamill.operations.numbers import as_double, clipped, finite
from datamill.problems import field_error

Method = Literal["zscore", "trimmed", "iqr"]
DEFAULT_K: dict[str, float] = {"zscore": 3.0, "trimmed": 3.0, "iqr": 1.5}


class Outliers(Params):
    column: NumCol
    method: Method = "zscore"
    k: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="How many deviations (zscore, trimmed) or IQRs (iqr) from the centre; "
        "default 3, 3 and 1.5.",
    )
    trim: float = Field(
        default=0.1, ge=0, lt=0.5, description="For trimmed: the fraction cut at each end."
    )
    action: Literal["flag", "null", "clip", "delete"] = "flag"
    flag_name: NewCol | None = Field(default=None, description="Default: <column>_outlier.")

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.flag_name is not None and self.action != "flag":
            return [field_error(["flag_name"], "a flag column is only made by action flag")]
        return []


def fences(table: Table, column: str, method: Method, k: float, trim: float) -> tuple[Any, Any]:
    """The low and high fences: a finite value outside them is an outlier. None when the
    column has too few values to tell."""
    source = finite(table, column)
    if method == "iqr":
        q1, q3 = table.one(
            f"SELECT quantile_cont({source}, 0.25), quantile_cont({source}, 0.75) "
            f"FROM {table.source}"
        )
        if q1 is None:
            return None, None
        spread = q3 - q1
        return q1 - k * spread, q3 + k * spread
    if method == "trimmed":
        low, high = table.one(
            f"SELECT quantile_cont({source}, ?), quantile_cont({source}, ?) FROM {table.source}",
            [trim, 1 - trim],
        )
        if low is None:
            return None, None
        value = as_double(column)
        mean, std = table.one(
            f"SELECT avg({value}), stddev_samp({value}) FROM {table.source} "
            f"WHERE {value} BETWEEN ? AND ?",
            [low, high],
        )
    else:
        mean, std = table.one(f"SELECT avg({source}), stddev_samp({source}) FROM {table.source}")
    if mean is None or std is None:
        return None, None
    return mean - k * std, mean + k * std


def treat_outliers(params: Outliers, table: Table) -> Plan:
    k = params.k if params.k is not None else DEFAULT_K[params.method]
    low, high = fences(table, params.column, params.method, k, params.trim)
    if low is not None and (math.isnan(low) or math.isnan(high)):
        low, high = None, None  # the spread overflowed the doubles: no fence can be told
    column = ident(params.column)
    if low is None:
        outside = "FALSE"
        values: list[Any] = []
    else:
        outside = f"(isfinite({as_double(params.column)}) AND ({column} < ? OR {column} > ?))"
        values = [low, high]
    (count,) = table.one(f"SELECT count(*) FILTER (WHERE {outside}) FROM {table.source}", values)
    details = {"outliers": count, "low": low, "high": high}
    if params.action == "flag":
        name = params.flag_name or unique_name(f"{params.column}_outlier", table.names())
        flag = f"COALESCE({outside}, FALSE) AS {ident(name)}"
        items = []
        for existing in table.names():
            items.append(ident(existing))
            if existing == params.column:
                items.append(flag)
        return Plan(f"SELECT {', '.join(items)} FROM {table.source}", values, details)
    if params.action == "delete":
        return Plan(
            f"SELECT * FROM {table.source} WHERE NOT COALESCE({outside}, FALSE)", values, details
        )
    if low is None:
        return Plan(f"SELECT * FROM {table.source}", [], details)
    if params.action == "null":
        replaced = f"CASE WHEN {outside} THEN NULL ELSE {column} END"
    else:
        kind = table.column(params.column)["type"]
        replaced = clipped(params.column, kind, float(low), float(high))
        values = [] if "?" not in replaced else values
    select = select_replacing(table, {params.column: replaced})
    return Plan(f"SELECT {select} FROM {table.source}", values, details)


OPERATIONS: list[Operation[Any]] = [
    Operation(
        "treat-outliers",
        "outliers",
        "Find outliers by z-score, trimmed mean ± k deviations, or IQR fences; flag them in a "
        "new column, make them null, clip them to the fences, or delete their rows.",
        Outliers,
        treat_outliers,
        {"column": "price", "method": "iqr", "action": "flag"},
    )
]
