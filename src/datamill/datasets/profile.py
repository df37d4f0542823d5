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
"""

from __future__ import annotations

import math
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from datamill.datasets.engine import Engine
from datamill.datasets.types import Column, quote_ident
from datamill.datasets.view import View, where_clause

BINS = 20
TOP_VALUES = 10
EXACT_DISTINCT_ROWS = 1_000_000
_EPOCH_DATE = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1)
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
    else:
        scan.add(index, "min", f"min({ident})")
        scan.add(index, "max", f"max({ident})")


# -- histograms


def _run_histograms(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    params: list[Any],
    columns: list[Column],
    profiles: list[dict[str, Any]],
) -> None:
    """Twenty equal-width bins from min to max, the last one closed (as numpy does)."""
    scan = _Scan()
    edges: dict[int, list[float]] = {}
    for index, column in enumerate(columns):
        if column["type"] in _RANGED:
            profiles[index]["histogram"] = None
            bounds = _bounds(profiles[index])
            if bounds is not None:
                edges[index] = _edges(*bounds)
                scan.add(
                    index,
                    "histogram",
                    _bucket_count(column),
                    (edges[index][0], _width(edges[index])),
                )
    if not scan.exprs:
        return
    row = cursor.execute(
        f"SELECT {', '.join(scan.exprs)} FROM {source}", [*scan.params, *params]
    ).fetchall()[0]
    for (index, _), counts in zip(scan.targets, row, strict=True):
        histogram = [int((counts or {}).get(bin_, 0)) for bin_ in range(BINS)]
        kind = columns[index]["type"]
        profiles[index]["histogram"] = {
            "edges": _edge_labels(edges[index], kind),
            "counts": histogram,
        }


def _numeric_sql(column: Column) -> str:
    """The column as a number on the histogram's axis: days or microseconds since 1970."""
    ident = quote_ident(column["name"])
    if column["type"] == "date":
        return f"({ident} - DATE '1970-01-01')"
    if column["type"] == "timestamp":
        return f"epoch_us({ident})"
    return ident


def _to_axis(value: Any) -> float:
    if isinstance(value, datetime):
        return (value - _EPOCH) / timedelta(microseconds=1)
    if isinstance(value, date):
        return float((value - _EPOCH_DATE).days)
    return float(value)


def _bounds(profile: dict[str, Any]) -> tuple[float, float] | None:
    """The finite range of a column, or None when it has no (finite) value or is too wide."""
    if profile.get("min") is None or profile.get("max") is None:
        return None
    low, high = _to_axis(profile["min"]), _to_axis(profile["max"])
    return (low, high) if math.isfinite(high - low) else None


def _edges(low: float, high: float) -> list[float]:
    """``BINS + 1`` edges; a single value gets a unit-wide range around it, as numpy does."""
    if low == high:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / BINS
    return [low + step * position for position in range(BINS)] + [high]


def _width(edges: list[float]) -> float:
    return (edges[-1] - edges[0]) / BINS


def _bucket_count(column: Column) -> str:
    """``histogram`` of each value's bin number; the maximum lands in the last bin."""
    value = _numeric_sql(column)
    bucket = f"least(CAST(floor(({value} - ?) / ?) AS BIGINT), {BINS - 1})"
    # ``least`` ignores nulls, so they are kept out explicitly; NaN and infinities have no bin.
    binned = f"isfinite({value})" if column["type"] == "float" else f"{value} IS NOT NULL"
    return f"histogram(CASE WHEN {binned} THEN {bucket} END)"


def _edge_labels(edges: list[float], kind: str) -> list[float | str]:
    """Edges as numbers, or ISO text for dates (whole days as dates) and timestamps."""
    if kind == "timestamp":
        return [_iso(_EPOCH + timedelta(microseconds=round(edge))) for edge in edges]
    if kind == "date":
        if all(edge.is_integer() for edge in edges):
            return [(_EPOCH_DATE + timedelta(days=int(edge))).isoformat() for edge in edges]
        return [_iso(_EPOCH + timedelta(microseconds=round(edge * 86_400e6))) for edge in edges]
    return list(edges)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")


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
    for key, value in profile.items():
        if isinstance(value, datetime):
            profile[key] = _iso(value)
        elif isinstance(value, date):
            profile[key] = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            profile[key] = None
    return profile
