"""Arrow data as JSON-ready rows: the one place that decides how a cell looks on the wire.

Nulls become ``None``; non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (JSON has no such numbers); dates are ``YYYY-MM-DD`` and timestamps
``YYYY-MM-DDTHH:MM:SS`` with ``.ffffff`` only when there are microseconds (naive, as stored).
Formatting is done column by column with Arrow compute, so a 1,000-row page costs well under a
millisecond per column and years beyond 9999 (which Python's ``datetime`` cannot hold) still work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

JsonScalar: TypeAlias = bool | int | float | str | None
Row: TypeAlias = list[JsonScalar]

_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def to_rows(data: pa.Table | pa.RecordBatch) -> list[Row]:
    """The rows of ``data`` as lists in column order, every value ready for a JSON encoder."""
    columns = [column_values(data.column(index)) for index in range(data.num_columns)]
    if not columns:
        return [[] for _ in range(data.num_rows)]
    return [list(row) for row in zip(*columns, strict=True)]


def to_records(data: pa.Table | pa.RecordBatch) -> list[dict[str, JsonScalar]]:
    """The rows of ``data`` as ``{column: value}`` objects, with the same value encoding."""
    names = data.schema.names
    return [dict(zip(names, row, strict=True)) for row in to_rows(data)]


def column_values(array: pa.Array | pa.ChunkedArray) -> list[JsonScalar]:
    """One column's values, encoded for JSON."""
    kind = array.type
    for matches, encode in _ENCODERS:
        if matches(kind):
            return encode(array)
    values: list[JsonScalar] = array.to_pylist()
    return values


def _floats(array: pa.Array | pa.ChunkedArray) -> list[JsonScalar]:
    values: list[JsonScalar] = array.to_pylist()
    if pc.all(pc.or_kleene(pc.is_finite(array), pc.is_null(array))).as_py() is not False:
        return values
    return [_float(value) for value in values]


def _float(value: JsonScalar) -> JsonScalar:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    return value


def _dates(array: pa.Array | pa.ChunkedArray) -> list[JsonScalar]:
    values: list[JsonScalar] = pc.strftime(array, format="%Y-%m-%d").to_pylist()
    return values


def _timestamps(array: pa.Array | pa.ChunkedArray) -> list[JsonScalar]:
    """ISO text; Arrow prints the unit's fraction, which is dropped when it is all zeros."""
    if array.type.tz is not None:
        array = array.cast(pa.timestamp(array.type.unit))
    text = pc.strftime(array, format="%Y-%m-%dT%H:%M:%S")
    trimmed = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    values: list[JsonScalar] = trimmed.to_pylist()
    return values


_ENCODERS: tuple[
    tuple[Callable[[pa.DataType], bool], Callable[[pa.Array | pa.ChunkedArray], list[JsonScalar]]],
    ...,
] = (
    (pa.types.is_floating, _floats),
    (pa.types.is_date, _dates),
    (pa.types.is_timestamp, _timestamps),
)
