"""Per-column profiles of a revision: counts, distinct values, ranges, histograms, top values.

Three kinds of scan, each over the whole file once, however many columns there are:

1. one ``SELECT`` of every scalar aggregate of every column;
2. one ``SELECT`` of every histogram (it needs the ranges from the first);
3. one ``GROUP BY`` per text column, which gives both its top values and its exact distinct count.

DuckDB does all three. Polars was measured on ten million rows (2 cores): faster on the scalar
aggregates (0.36-0.43 s against 0.51-0.56 s) and histograms (0.23 s against 0.28 s), slower on the
text grouping (1.7 s against 1.4 s), about even in total (2.25 s against 2.2 s), and not a runtime
dependency; so DuckDB it is.

Distinct counts are exact up to ``EXACT_DISTINCT_ROWS`` rows, and for text and bool columns always;
beyond that, numbers, dates and timestamps use DuckDB's HyperLogLog estimate (within a few percent)
because exact counts of millions of distinct values cost several times the rest of the profile.
``distinct_exact`` says which one a column got. Floats: NaN and ±Infinity are left out of
min/max/mean/std/histogram and counted in ``non_finite``; NaN counts as one distinct value.

Dates and timestamps are ranged and binned in SQL as whole numbers, days or microseconds since
1970 (DuckDB's ``infinity`` left out), and formatted in Python by ``values.py``, exactly, whatever
the year. Their histogram edges are exact: a date histogram has bins of a whole number of days
(as few as fit twenty bins from the minimum, so the last edge may lie past the maximum), a
timestamp histogram's edges are whole microseconds (at least one per bin).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from datamill.datasets.engine import Engine
from datamill.datasets.types import Column, quote_ident
from datamill.datasets.values import format_days, format_microseconds
from datamill.datasets.view import View, where_clause

BINS = 20
TOP_VALUES = 10
EXACT_DISTINCT_ROWS = 1_000_000
_RANGED = ("int", "float", "date", "timestamp")


@dataclass
class _Scan:
    """Aggregate expressions of one SELECT, and which column and key each result belongs to."""

    exprs: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    targets: list[tuple[int, str]] = field(default_factory=list)

    def add(self, index: int, key: str, expr: str, params: tuple[Any, ...] = ()) -> None:
        self.exprs.append(expr)
        self.params.extend(params)
        self.targets.append((index, key))


def compute_profile(
    engine: Engine, path: Path, columns: list[Column], view: View | None = None
) -> dict[str, Any]:
    """The profile of every column of the revision at ``path`` (under ``view`` if given)."""
    view = view or View()
    where, where_params = where_clause(view, columns)
    exact = pq.read_metadata(path).num_rows <= EXACT_DISTINCT_ROWS
    source = f"(SELECT * FROM read_parquet(?) {where}) AS source"
    params = [str(path), *where_params]
    profiles: list[dict[str, Any]] = [
        {"name": column["name"], "type": column["type"]} for column in columns
    ]
    with closing(engine.cursor()) as cursor:
        row_count = _run_scalars(cursor, source, params, columns, profiles, exact)
        _run_histograms(cursor, source, params, columns, profiles)
        for index, column in enumerate(columns):
            if column["type"] == "text":
                _run_top_values(cursor, source, params, column, profiles[index])
    return {"row_count": row_count, "columns": [_finish(p) for p in profiles]}


# -- scalar aggregates


def _run_scalars(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    params: list[Any],
    columns: list[Column],
    profiles: list[dict[str, Any]],
    exact: bool,
) -> int:
    scan = _Scan()
    for index, column in enumerate(columns):
        _add_scalars(scan, index, column, exact)
    select = ", ".join(["count(*)", *scan.exprs])
    row = cursor.execute(f"SELECT {select} FROM {source}", params).fetchall()[0]
    for (index, key), value in zip(scan.targets, row[1:], strict=True):
        profiles[index][key] = value
    for index, column in enumerate(columns):
        profiles[index]["nulls"] = row[0] - profiles[index]["count"]
        profiles[index]["distinct_exact"] = exact or column["type"] in ("text", "bool")
    return int(row[0])


def _add_scalars(scan: _Scan, index: int, column: Column, exact: bool) -> None:
    ident = quote_ident(column["name"])
    kind = column["type"]
    scan.add(index, "count", f"count({ident})")
    if kind not in ("text", "bool"):
        distinct = f"count(DISTINCT {ident})" if exact else f"approx_count_distinct({ident})"
        scan.add(index, "distinct", distinct)
    if kind == "bool":
        scan.add(index, "true", f"count(*) FILTER (WHERE {ident})")
        scan.add(index, "false", f"count(*) FILTER (WHERE NOT {ident})")
    elif kind == "text":
        scan.add(index, "min_length", f"min(length({ident}))")
        scan.add(index, "max_length", f"max(length({ident}))")
    elif kind in ("int", "float"):
        finite = f" FILTER (WHERE isfinite({ident}))" if kind == "float" else ""
        for key, function in (("min", "min"), ("max", "max"), ("mean", "avg")):
            scan.add(index, key, f"{function}({ident}){finite}")
        scan.add(index, "std", f"stddev_samp({ident}){finite}")
        if kind == "float":
            scan.add(index, "non_finite", f"count(*) FILTER (WHERE NOT isfinite({ident}))")
    else:  # dates and timestamps as whole numbers, formatted by ``_finish``
        finite = f" FILTER (WHERE isfinite({ident}))"
        scan.add(index, "min", f"min({_axis_sql(column)}){finite}")
        scan.add(index, "max", f"max({_axis_sql(column)}){finite}")


# -- histograms


@dataclass(frozen=True)
class _Bins:
    """One column's histogram: the SQL counting values per bin number, its parameters, its edges."""

    expr: str
    params: tuple[Any, ...]
    edges: list[float] | list[str]


def _run_histograms(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    params: list[Any],
    columns: list[Column],
    profiles: list[dict[str, Any]],
) -> None:
    """Twenty bins from the minimum, the last one closed (as numpy does)."""
    scan = _Scan()
    edges: dict[int, list[float] | list[str]] = {}
    for index, column in enumerate(columns):
        if column["type"] in _RANGED:
            profiles[index]["histogram"] = None
            bins = _bins(column, profiles[index].get("min"), profiles[index].get("max"))
            if bins is not None:
                edges[index] = bins.edges
                scan.add(index, "histogram", bins.expr, bins.params)
    if not scan.exprs:
        return
    row = cursor.execute(
        f"SELECT {', '.join(scan.exprs)} FROM {source}", [*scan.params, *params]
    ).fetchall()[0]
    for (index, _), counts in zip(scan.targets, row, strict=True):
        histogram = [int((counts or {}).get(bin_, 0)) for bin_ in range(BINS)]
        profiles[index]["histogram"] = {"edges": edges[index], "counts": histogram}


def _bins(column: Column, low: Any, high: Any) -> _Bins | None:
    """The histogram of a column ranging from ``low`` to ``high``, or None without a range."""
    if low is None or high is None:
        return None
    if column["type"] == "date":
        return _date_bins(column, low, high)
    if column["type"] == "timestamp":
        return _timestamp_bins(column, low, high)
    return _number_bins(column, float(low), float(high))


def _number_bins(column: Column, low: float, high: float) -> _Bins | None:
    """Equal widths; a single value gets a unit-wide range around it, as numpy does."""
    if not math.isfinite(high - low):
        return None
    if low == high:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / BINS
    edges = [low + step * position for position in range(BINS)] + [high]
    ident = quote_ident(column["name"])
    bucket = f"least(CAST(floor(({ident} - ?) / ?) AS BIGINT), {BINS - 1})"
    # ``least`` ignores nulls, so they are kept out explicitly; NaN and infinities have no bin.
    binned = f"isfinite({ident})" if column["type"] == "float" else f"{ident} IS NOT NULL"
    return _Bins(f"histogram(CASE WHEN {binned} THEN {bucket} END)", (low, step), edges)


def _date_bins(column: Column, low: int, high: int) -> _Bins:
    """Bins of the same whole number of days, the fewest that cover the range in twenty."""
    step = max(1, -(-(high - low) // BINS))
    bucket = f"least(({_axis_sql(column)} - ?) // ?, {BINS - 1})"
    expr = f"histogram(CASE WHEN isfinite({quote_ident(column['name'])}) THEN {bucket} END)"
    edges = [format_days(low + step * position) for position in range(BINS + 1)]
    return _Bins(expr, (low, step), edges)


def _timestamp_bins(column: Column, low: int, high: int) -> _Bins:
    """Equal widths in exact arithmetic; each edge is the first microsecond of its bin."""
    span = max(high - low, BINS)
    offset = f"(CAST({_axis_sql(column)} AS HUGEINT) - ?)"
    bucket = f"CAST(least({offset} * {BINS} // CAST(? AS HUGEINT), {BINS - 1}) AS BIGINT)"
    expr = f"histogram(CASE WHEN isfinite({quote_ident(column['name'])}) THEN {bucket} END)"
    edges = [format_microseconds(low - (-span * position // BINS)) for position in range(BINS + 1)]
    return _Bins(expr, (low, span), edges)


def _axis_sql(column: Column) -> str:
    """A date or timestamp as a whole number: days or microseconds since 1970."""
    ident = quote_ident(column["name"])
    if column["type"] == "date":
        return f"({ident} - DATE '1970-01-01')"
    return f"epoch_us({ident})"


# -- top values


def _run_top_values(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    params: list[Any],
    column: Column,
    profile: dict[str, Any],
) -> None:
    """The most frequent values (ties by value) and, from the same grouping, the exact distinct."""
    ident = quote_ident(column["name"])
    groups = (
        f"SELECT {ident} AS v, count(*) AS n FROM {source} WHERE {ident} IS NOT NULL GROUP BY v"
    )
    sql = (
        f"SELECT count(*), min_by({{'v': v, 'n': n}}, {{'k': -n, 'v': v}}, {TOP_VALUES}) "
        f"FROM ({groups})"
    )
    distinct, top = cursor.execute(sql, params).fetchall()[0]
    ranked = sorted(top or [], key=lambda item: (-item["n"], item["v"]))
    profile["distinct"] = int(distinct)
    profile["top"] = [{"value": item["v"], "count": int(item["n"])} for item in ranked]


# -- shaping


def _finish(profile: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: dates as ISO text, no NaN or infinite floats, bool counts as plain ints."""
    if profile["type"] == "bool":
        profile["distinct"] = int(profile["true"] > 0) + int(profile["false"] > 0)
    text = _FORMATS.get(profile["type"])
    for key, value in profile.items():
        if text is not None and key in ("min", "max") and value is not None:
            profile[key] = text(int(value))
        elif isinstance(value, float) and not math.isfinite(value):
            profile[key] = None
    return profile


_FORMATS: dict[str, Callable[[int], str]] = {
    "date": format_days,
    "timestamp": format_microseconds,
}
