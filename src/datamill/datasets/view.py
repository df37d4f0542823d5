"""A grid view — sort keys, filters and free-text search — parsed from query parameters and as SQL.

``parse_view`` checks everything against the revision's columns up front and reports every bad
item at once (with its exact ``loc``), so the SQL built here only ever sees known columns and
values already coerced to the column's type. Values are always bound parameters; identifiers
always go through ``quote_ident``.

Semantics, fixed here once for the grid, counts, profiles and exports:

* Nulls sort last in both directions. NaN is the largest float (DuckDB's total order), so it comes
  after +Infinity ascending and first descending; comparisons follow the same order.
* Comparisons (``eq`` ... ``between``, ``in``) never match a null, as in SQL.
* ``contains`` and ``starts_with`` are case-insensitive, like ``q``; ``regex`` is RE2 syntax,
  case-sensitive unless the pattern says ``(?i)``. All three work on a column's text form, the
  same text the grid shows (``2024-01-31T12:00:00``, ``true``, ``NaN``). ``contains`` and
  ``starts_with`` take a string, or a number meaning its JSON text, which is also how the grid
  shows it (``12``, ``1.5``, ``NaN``, ``-Infinity``); ``regex`` takes only a string. A number
  given for a text column's comparisons means its JSON text in the same way.
* Values are strict: an integer is a JSON number with no fraction, or a string of plain decimal
  digits, optionally signed (no ``1_0``, ``1e3`` or ``0x10``); a float is a JSON number, or a
  string of a decimal number (``-1.5e3``, ``.5``) or of ``NaN``/``Infinity``/``-Infinity``. A
  value out of the column's range (a 400-digit number for a float, a timestamp whose offset
  takes it out of the years 1 to 9999) is refused, never rounded or wrapped. ``sort`` and
  ``filter`` hold at most ``MAX_ITEMS`` items each; JSON nested too deeply to parse is refused.
* Ties are broken by the row's position in the file, so a view has one exact row order.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeAlias, get_args

import duckdb

from datamill.datasets.engine import Engine
from datamill.datasets.types import STORAGE_TYPE, Column, ColumnType, quote_ident
from datamill.problems import Invalid, field_error

Scalar: TypeAlias = bool | int | float | str | date | datetime
FilterValue: TypeAlias = Scalar | tuple[Scalar, ...] | None
FilterOp = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "in",
    "is_null",
    "not_null",
    "contains",
    "starts_with",
    "regex",
]
FILTER_OPS: tuple[FilterOp, ...] = get_args(FilterOp)

# The virtual column DuckDB adds to ``read_parquet``: the tie-break that makes every order total.
ROW_NUMBER = "file_row_number"

_COMPARISONS: dict[str, str] = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_TEXT_OPS = ("contains", "starts_with", "regex")
# At most this many sort keys or filters; more is a broken or hostile client, not a view.
MAX_ITEMS = 100
_MAX_IN_VALUES = 10_000
_MAX_PATTERN = 1_000
_SHOWN_COLUMNS = 20
_SHOWN_CHARS = 80
_INT_RANGE = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)
_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)",
    re.ASCII | re.IGNORECASE,
)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class SortKey:
    column: str
    desc: bool = False


@dataclass(frozen=True)
class Filter:
    column: str
    op: FilterOp
    value: FilterValue = None


@dataclass(frozen=True)
class View:
    """What rows a grid shows and in which order; the identity view is the revision as stored."""

    sort: tuple[SortKey, ...] = ()
    filters: tuple[Filter, ...] = ()
    q: str | None = None

    @property
    def is_identity(self) -> bool:
        return not self.sort and not self.filters and self.q is None

    @property
    def keeps_all_rows(self) -> bool:
        """True when the view only reorders rows, so its count is the revision's."""
        return not self.filters and self.q is None

    def key(self) -> str:
        """A stable string naming the view: equal views (filters in any order) give equal keys."""
        filters = sorted(
            json.dumps([f.column, f.op, _key_value(f.value)], ensure_ascii=False)
            for f in self.filters
        )
        body = {"sort": [[k.column, k.desc] for k in self.sort], "filter": filters, "q": self.q}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _key_value(value: FilterValue) -> Any:
    """A JSON form of a coerced value that keeps NaN, infinities and dates distinct."""
    if isinstance(value, tuple):
        return [_key_value(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, date | datetime):
        return {type(value).__name__: value.isoformat()}
    return value


# -- parsing ---------------------------------------------------------------------------------------


class _BadValue(ValueError):
    """A value that cannot be used; the message names the column and what was expected."""


class _Errors:
    """Collects every problem of one request so the reply lists them all, not just the first."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Sequence[str | int], msg: str) -> None:
        self.items.append(field_error(loc, msg))


def _summary(items: list[dict[str, Any]]) -> str:
    """The first problem as a sentence, so that the detail alone says what to fix."""
    first = items[0]
    where = " ".join(str(part) for part in first["loc"][1:])
    more = (
        f" (and {len(items) - 1} more problem{'s' if len(items) > 2 else ''})"
        if len(items) > 1
        else ""
    )
    return f"The view is not valid: {where}: {first['msg']}{more}."


def _shown(value: Any, render: Callable[[Any], str] = json.dumps) -> str:
    """A value as a message quotes it: lists and objects only by kind, long text cut short."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    text = render(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


class _RegexCheck:
    """Compiles patterns with RE2, as DuckDB will run them, on a cursor opened at first use:
    the engine's when one is given, else a private in-memory database closed with this."""

    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine
        self._cursor: duckdb.DuckDBPyConnection | None = None

    def problem(self, pattern: str) -> str | None:
        """Why RE2 (the engine that will run the filter) rejects ``pattern``, or None."""
        if self._cursor is None:
            self._cursor = duckdb.connect() if self._engine is None else self._engine.cursor()
        try:
            self._cursor.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            return str(exc).removeprefix("Invalid Input Error: ")
        return None

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


def parse_view(
    sort: str | None,
    filter: str | None,
    q: str | None,
    columns: list[Column],
    *,
    engine: Engine | None = None,
) -> View:
    """The view named by the ``sort``, ``filter`` and ``q`` query parameters, or ``Invalid``.

    Regular expressions are checked on a cursor of ``engine``; without one, on a private
    in-memory database opened only when the view has a ``regex`` filter (about 15 ms).
    """
    by_name = {column["name"]: column for column in columns}
    errors = _Errors()
    keys = _parse_sort(sort, by_name, errors)
    with closing(_RegexCheck(engine)) as regexes:
        filters = _parse_filters(filter, by_name, errors, regexes)
    if errors.items:
        raise Invalid(_summary(errors.items), errors=errors.items)
    return View(sort=keys, filters=filters, q=q or None)


def _load_list(text: str | None, param: str, errors: _Errors) -> list[Any]:
    """The JSON list in a query parameter; empty when absent, an error when not a short list."""
    if text is None or not text.strip():
        return []
    try:
        loaded = json.loads(text)
    except RecursionError:
        errors.add(["query", param], f"{param} is nested too deeply")
        return []
    except ValueError as exc:
        errors.add(["query", param], f"{param} is not valid JSON: {_shown(str(exc), str)}")
        return []
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        errors.add(["query", param], f"{param} must be a JSON list of objects")
        return []
    if len(loaded) > MAX_ITEMS:
        errors.add(["query", param], f"{param} has {len(loaded)} items; at most {MAX_ITEMS}")
        return []
    return loaded


def _check_item(
    item: Any, loc: list[str | int], allowed: tuple[str, ...], errors: _Errors
) -> Mapping[str, Any] | None:
    """The item if it is an object (its unknown fields recorded as errors), else None."""
    if not isinstance(item, dict):
        errors.add(loc, f"must be an object with the fields {', '.join(allowed)}")
        return None
    for field in item:
        if field not in allowed:
            errors.add(
                [*loc, field], f"unknown field {_shown(field, repr)}; expected {', '.join(allowed)}"
            )
    return item


def _check_column(
    item: Mapping[str, Any], loc: list[str | int], by_name: Mapping[str, Column], errors: _Errors
) -> Column | None:
    name = item.get("column")
    if not isinstance(name, str):
        errors.add([*loc, "column"], "a column name (a string) is required")
        return None
    column = by_name.get(name)
    if column is None:
        errors.add(
            [*loc, "column"], f"unknown column {_shown(name, repr)}; {known_columns(by_name)}"
        )
    return column


def require_column(
    columns: Sequence[Column],
    name: str,
    field: str,
    types: Sequence[str] | None = None,
    use: str = "this read",
) -> Column:
    """The column called ``name``, or a 422 at ``["query", field]``: an unknown name lists the
    columns there are, a column of another type says which types ``use`` takes."""
    by_name = {column["name"]: column for column in columns}
    found = by_name.get(name)
    if found is None:
        raise Invalid(
            f"There is no column {name!r}; {known_columns(by_name)}.",
            errors=[field_error(["query", field], f"unknown column {name!r}")],
        )
    if types is not None and found["type"] not in types:
        wanted = " or ".join(types)
        raise Invalid(
            f"Column {name!r} is {found['type']}: {use} takes {wanted} columns.",
            errors=[field_error(["query", field], f"expected a {wanted} column")],
        )
    return found


def known_columns(by_name: Mapping[str, Column]) -> str:
    names = list(by_name)
    if not names:
        return "this table has no columns"
    shown = ", ".join(repr(name) for name in names[:_SHOWN_COLUMNS])
    more = len(names) - _SHOWN_COLUMNS
    return f"columns are {shown}" + (f" and {more} more" if more > 0 else "")


def _parse_sort(
    text: str | None, by_name: Mapping[str, Column], errors: _Errors
) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for index, raw in enumerate(_load_list(text, "sort", errors)):
        loc: list[str | int] = ["query", "sort", index]
        item = _check_item(raw, loc, ("column", "desc"), errors)
        if item is None:
            continue
        column = _check_column(item, loc, by_name, errors)
        desc = item.get("desc", False)
        if not isinstance(desc, bool):
            errors.add([*loc, "desc"], "desc must be true or false")
            continue
        if column is None:
            continue
        if any(key.column == column["name"] for key in keys):
            errors.add([*loc, "column"], f"column {column['name']!r} is already a sort key")
            continue
        keys.append(SortKey(column["name"], desc))
    return tuple(keys)


def _parse_filters(
    text: str | None, by_name: Mapping[str, Column], errors: _Errors, regexes: _RegexCheck
) -> tuple[Filter, ...]:
    filters: list[Filter] = []
    for index, raw in enumerate(_load_list(text, "filter", errors)):
        loc: list[str | int] = ["query", "filter", index]
        item = _check_item(raw, loc, ("column", "op", "value"), errors)
        if item is None:
            continue
        column = _check_column(item, loc, by_name, errors)
        op = item.get("op")
        if not isinstance(op, str) or op not in FILTER_OPS:
            expected = ", ".join(FILTER_OPS)
            errors.add([*loc, "op"], f"unknown op {_shown(op, repr)}; expected one of {expected}")
            continue
        if column is not None:
            parsed = _parse_filter(column, op, item, loc, errors, regexes)
            if parsed is not None:
                filters.append(parsed)
    return tuple(filters)


def _parse_filter(
    column: Column,
    op: FilterOp,
    item: Mapping[str, Any],
    loc: list[str | int],
    errors: _Errors,
    regexes: _RegexCheck,
) -> Filter | None:
    """The filter with its value coerced for ``op`` on ``column``, or None after an error."""
    value_loc = [*loc, "value"]
    try:
        value = _OP_VALUES[op](column, item.get("value"), regexes)
    except _BadListItem as exc:
        errors.add([*value_loc, exc.index], f"{op} on column {column['name']!r}: {exc}")
        return None
    except _BadValue as exc:
        errors.add(value_loc, f"{op} on column {column['name']!r}: {exc}")
        return None
    return Filter(column["name"], op, value)


# -- values per op ---------------------------------------------------------------------------------


class _BadListItem(_BadValue):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def _no_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    if value is not None:
        raise _BadValue("takes no value")
    return None


def _one_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    if value is None:
        raise _BadValue("a value is required (use is_null to find missing values)")
    return _coerce_value(value, column)


def _range_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    if not isinstance(value, list) or len(value) != 2:
        raise _BadValue("between takes a list of two values, [low, high]")
    return _list_items(value, column)


def _list_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    if not isinstance(value, list):
        raise _BadValue("in takes a list of values")
    if len(value) > _MAX_IN_VALUES:
        raise _BadValue(f"in takes at most {_MAX_IN_VALUES} values")
    return _list_items(value, column)


def _list_items(values: list[Any], column: Column) -> tuple[Scalar, ...]:
    items: list[Scalar] = []
    for index, raw in enumerate(values):
        if raw is None:
            raise _BadListItem(index, "null is not a value here (use is_null)")
        try:
            items.append(_coerce_value(raw, column))
        except _BadValue as exc:
            raise _BadListItem(index, str(exc)) from exc
    return tuple(items)


def _text_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    """A string, or a number as its JSON text (the grid's text of it: ``NaN``, not ``nan``)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadValue("a text value is required")
    return value if isinstance(value, str) else _json_number(value)


def _pattern_value(column: Column, value: Any, regexes: _RegexCheck) -> FilterValue:
    if not isinstance(value, str):
        raise _BadValue("a regular expression (a string) is required")
    if len(value) > _MAX_PATTERN:
        raise _BadValue(f"the regular expression is longer than {_MAX_PATTERN} characters")
    problem = regexes.problem(value)
    if problem is not None:
        raise _BadValue(f"not a valid regular expression: {problem}")
    return value


_OP_VALUES: dict[str, Callable[[Column, Any, _RegexCheck], FilterValue]] = {
    **dict.fromkeys(_COMPARISONS, _one_value),
    "between": _range_value,
    "in": _list_value,
    "is_null": _no_value,
    "not_null": _no_value,
    "contains": _text_value,
    "starts_with": _text_value,
    "regex": _pattern_value,
}


# -- coercion --------------------------------------------------------------------------------------


def coerce_value(value: Any, column: Column) -> Scalar:
    """``value`` (JSON) read as a value of ``column``'s type, strictly; ``ValueError`` naming
    what was expected otherwise."""
    return _coerce_value(value, column)


def _coerce_value(value: Any, column: Column) -> Scalar:
    """``value`` as the Python value of the column's type, or ``_BadValue`` saying what fits."""
    if isinstance(value, list | dict) or value is None:
        raise _BadValue(f"expected one {column['type']} value, got {_shown(value)}")
    return _COERCE[column["type"]](value)


def _coerce_int(value: Any) -> int:
    """Plain decimal digits only: no ``1_0``, no ``1e3``, no other scripts' digits."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not _INT_RANGE[0] <= number <= _INT_RANGE[1]:
        raise _BadValue(f"expected an integer (64-bit), got {_shown(value)}")
    return number


def _coerce_float(value: Any) -> float:
    """A number that a 64-bit float holds, or one of NaN, Infinity, -Infinity."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            number = float(value.strip())
            if math.isfinite(number) or _NON_FINITE.fullmatch(value.strip()):
                return number
    except OverflowError:
        pass
    raise _BadValue(
        f"expected a number (or NaN, Infinity, -Infinity) a 64-bit float holds, got {_shown(value)}"
    )


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _BadValue(f"expected true or false, got {_shown(value)}")


def _coerce_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _BadValue(f"expected an ISO date (YYYY-MM-DD), got {_shown(value)}")


def _coerce_timestamp(value: Any) -> datetime:
    """A naive UTC datetime: offsets are converted to UTC, as timestamps are stored."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise _BadValue(
                f"expected a timestamp within the years 1 to 9999 in UTC, got {_shown(value)}"
            ) from None
        except ValueError:
            pass
        else:
            return parsed
    raise _BadValue(
        f"expected an ISO timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]), got {_shown(value)}"
    )


def _coerce_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _json_number(value)
    raise _BadValue(f"expected a text value, got {_shown(value)}")


def _json_number(value: int | float) -> str:
    """A number's JSON text, which is also the grid's: ``12``, ``1.5``, ``NaN``, ``Infinity``."""
    return json.dumps(value)


_COERCE: dict[ColumnType, Callable[[Any], Scalar]] = {
    "int": _coerce_int,
    "float": _coerce_float,
    "bool": _coerce_bool,
    "date": _coerce_date,
    "timestamp": _coerce_timestamp,
    "text": _coerce_text,
}


# -- SQL -------------------------------------------------------------------------------------------


def text_form(column: Column) -> str:
    """SQL for a column's text as the grid shows it (``values.py``), for text ops and search."""
    ident = quote_ident(column["name"])
    kind = column["type"]
    if kind == "text":
        return ident
    if kind == "float":
        return (
            f"CASE WHEN isnan({ident}) THEN 'NaN' WHEN {ident} = 'Infinity'::DOUBLE THEN "
            f"'Infinity' WHEN {ident} = '-Infinity'::DOUBLE THEN '-Infinity' "
            f"ELSE CAST({ident} AS VARCHAR) END"
        )
    if kind == "timestamp":
        return (
            f"CASE WHEN epoch_us({ident}) % 1000000 = 0 THEN strftime({ident}, '%Y-%m-%dT%H:%M:%S')"
            f" ELSE strftime({ident}, '%Y-%m-%dT%H:%M:%S.%f') END"
        )
    return f"CAST({ident} AS VARCHAR)"


def where_clause(view: View, columns: list[Column]) -> tuple[str, list[Any]]:
    """``WHERE ...`` for the view's filters and search (or ``""``), with its bound parameters."""
    by_name = {column["name"]: column for column in columns}
    conditions: list[str] = []
    params: list[Any] = []
    for item in view.filters:
        sql, values = _condition(item, by_name[item.column])
        conditions.append(sql)
        params.extend(values)
    if view.q is not None:
        sql, values = _search(view.q, columns)
        conditions.append(sql)
        params.extend(values)
    if not conditions:
        return "", []
    return "WHERE " + " AND ".join(f"({sql})" for sql in conditions), params


def _condition(item: Filter, column: Column) -> tuple[str, list[Any]]:
    ident = quote_ident(column["name"])
    param = f"CAST(? AS {STORAGE_TYPE[column['type']]})"
    value = item.value
    if item.op in _COMPARISONS:
        return f"{ident} {_COMPARISONS[item.op]} {param}", [value]
    if item.op == "between":
        assert isinstance(value, tuple)
        return f"{ident} BETWEEN {param} AND {param}", list(value)
    if item.op == "in":
        assert isinstance(value, tuple)
        if not value:
            return "FALSE", []
        return f"{ident} IN ({', '.join([param] * len(value))})", list(value)
    if item.op in ("is_null", "not_null"):
        return f"{ident} IS {'' if item.op == 'is_null' else 'NOT '}NULL", []
    return _text_condition(item, column)


def _text_condition(item: Filter, column: Column) -> tuple[str, list[Any]]:
    text = text_form(column)
    if item.op == "regex":
        return f"regexp_matches({text}, ?)", [item.value]
    function = "contains" if item.op == "contains" else "starts_with"
    return f"{function}(lower({text}), lower(?))", [item.value]


def _search(q: str, columns: list[Column]) -> tuple[str, list[Any]]:
    """Any text column containing ``q``, ignoring case; nothing matches without text columns."""
    texts = [quote_ident(column["name"]) for column in columns if column["type"] == "text"]
    if not texts:
        return "FALSE", []
    return " OR ".join(f"contains(lower({text}), lower(?))" for text in texts), [q] * len(texts)


def order_clause(view: View) -> str:
    """``ORDER BY`` the sort keys (nulls last both ways), then by position in the file.

    The source must expose DuckDB's ``file_row_number`` (``read_parquet`` has it as a virtual
    column); that last key makes the order total, so a top-N query and a full sort agree.
    """
    keys = [
        f"{quote_ident(key.column)} {'DESC' if key.desc else 'ASC'} NULLS LAST" for key in view.sort
    ]
    return "ORDER BY " + ", ".join([*keys, ROW_NUMBER])
