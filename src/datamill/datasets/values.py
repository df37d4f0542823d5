"""Arrow data as JSON-ready rows: the one place that decides how a cell looks on the wire.

Nulls become ``None``; non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (JSON has no such numbers); dates are ``YYYY-MM-DD`` and timestamps
``YYYY-MM-DDTHH:MM:SS`` with ``.ffffff`` only when there are microseconds (naive, as stored).
Formatting is done column by column with Arrow compute, so a 1,000-row page costs well under a
millisecond per column. Arrow's ``strftime`` keeps the year in 16 bits, so a column with a value
outside the years 1 to 9999 is formatted here in Python instead (proleptic Gregorian calendar,
astronomical years: ``0000`` is 1 BC, ``-0001`` is 2 BC), exactly for any day DuckDB can store.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

JsonScalar: TypeAlias = bool | int | float | str | None
Row: TypeAlias = list[JsonScalar]

_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_EPOCH = date(1970, 1, 1)
# Days since 1970 that Arrow formats correctly, with room to spare: the years 1 to 9999.
_ARROW_DAYS = ((date.min - _EPOCH).days, (date.max - _EPOCH).days)
_DAY_SECONDS = 86_400
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


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


def format_days(days: int) -> str:
    """``YYYY-MM-DD`` of a day counted from 1970-01-01, for any integer (no ``datetime`` limits)."""
    year, month, day = _civil(days)
    return f"{_year(year)}-{month:02d}-{day:02d}"


def format_microseconds(micros: int) -> str:
    """The grid's text of a timestamp given in microseconds since 1970, for any integer."""
    return _format_timestamp(micros, "us")


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
    days = array.cast(pa.date32()).cast(pa.int32())
    if not _within(days, *_ARROW_DAYS):
        return _formatted(days, format_days)
    values: list[JsonScalar] = pc.strftime(array, format="%Y-%m-%d").to_pylist()
    return values


def _timestamps(array: pa.Array | pa.ChunkedArray) -> list[JsonScalar]:
    """ISO text; Arrow prints the unit's fraction, which is dropped when it is all zeros."""
    unit = array.type.unit
    if array.type.tz is not None:
        array = array.cast(pa.timestamp(unit))
    ticks = array.cast(pa.int64())
    per_day = _DAY_SECONDS * _PER_SECOND[unit]
    if not _within(ticks, _ARROW_DAYS[0] * per_day, (_ARROW_DAYS[1] + 1) * per_day - 1):
        return _formatted(ticks, lambda tick: _format_timestamp(tick, unit))
    text = pc.strftime(array, format="%Y-%m-%dT%H:%M:%S")
    trimmed = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    values: list[JsonScalar] = trimmed.to_pylist()
    return values


def _within(numbers: pa.Array | pa.ChunkedArray, low: int, high: int) -> bool:
    """True when every (non-null) number lies in ``[low, high]``."""
    bounds = pc.min_max(numbers).as_py()
    return bounds["min"] is None or (low <= bounds["min"] and bounds["max"] <= high)


def _formatted(numbers: pa.Array | pa.ChunkedArray, text: Callable[[int], str]) -> list[JsonScalar]:
    """Whole numbers as text, one by one in Python: for values outside Arrow's calendar."""
    return [None if number is None else text(number) for number in numbers.to_pylist()]


def _format_timestamp(ticks: int, unit: str) -> str:
    seconds, fraction = divmod(ticks, _PER_SECOND[unit])
    days, clock = divmod(seconds, _DAY_SECONDS)
    hours, rest = divmod(clock, 3600)
    text = f"{format_days(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{fraction:0{_DIGITS[unit]}d}" if fraction else text


def _civil(days: int) -> tuple[int, int, int]:
    """Year, month and day of a day number (H. Hinnant's ``civil_from_days``)."""
    shifted = days + 719_468  # days from 0000-03-01, so leap days fall at the end of a year
    era, day_of_era = divmod(shifted, 146_097)
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    march_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * march_month + 2) // 5 + 1
    month = march_month + 3 if march_month < 10 else march_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def _year(year: int) -> str:
    """Four digits at least, as ISO 8601 and Arrow write it: ``0042``, ``12000``, ``-0044``."""
    return f"{year:04d}" if year >= 0 else f"-{-year:04d}"


_ENCODERS: tuple[
    tuple[Callable[[pa.DataType], bool], Callable[[pa.Array | pa.ChunkedArray], list[JsonScalar]]],
    ...,
] = (
    (pa.types.is_floating, _floats),
    (pa.types.is_date, _dates),
    (pa.types.is_timestamp, _timestamps),
)
