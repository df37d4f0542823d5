"""Safe SQL expressions over a row's columns, for "derive a column" and "filter rows".

A user's expression becomes part of a query, so it is checked twice before it is used:

1. DuckDB parses ``SELECT <expression>`` (``json_serialize_sql``) and the tree is walked against
   an allow-list: column references, constants, arithmetic and comparisons, ``CASE``, ``CAST`` to
   the six column types, and named scalar functions on text, numbers and dates. No subquery,
   table function, aggregate, window, parameter, lambda or star, so nothing can reach a file or
   another table whatever is written.
2. The expression is bound over an empty table of the revision's columns, so an unknown column
   or a type error is reported before anything is queued, in DuckDB's words.

The engine that runs operations is also confined to Datamill's directories (defence in depth).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import Any, cast

import duckdb

from datamill.datasets.types import STORAGE_TYPE, Column, ColumnType, cast_target, quote_ident

MAX_EXPRESSION = 4_000
_UNKNOWN_COLUMN = re.compile(r'Referenced column "(.*?)" not found')

_ALLOWED_CLASSES = {
    "FUNCTION",
    "CASE",
    "COMPARISON",
    "CONJUNCTION",
    "OPERATOR",
    "CONSTANT",
    "COLUMN_REF",
    "CAST",
    "BETWEEN",
}
_CAST_TYPES = {
    "BIGINT", "INT", "INTEGER", "INT8", "LONG", "DOUBLE", "FLOAT8", "REAL", "FLOAT", "DECIMAL",
    "NUMERIC", "BOOLEAN", "BOOL", "DATE", "TIMESTAMP", "DATETIME", "VARCHAR", "TEXT", "STRING",
}  # fmt: skip
_OPERATORS = {"+", "-", "*", "/", "//", "%", "**", "^", "||", "~~", "!~~", "~~*", "!~~*"}
_FUNCTIONS = {
    # text
    "lower", "upper", "lcase", "ucase", "length", "len", "strlen", "substr", "substring",
    "concat", "concat_ws", "trim", "ltrim", "rtrim", "replace", "left", "right",
    "strpos", "instr", "position", "contains", "starts_with", "ends_with", "prefix", "suffix",
    "regexp_replace", "regexp_extract", "regexp_matches", "regexp_full_match", "split_part",
    "reverse", "like_escape", "ilike_escape", "md5", "hash",
    "initcap", "strip_accents", "ascii", "chr", "nullif", "ifnull", "levenshtein",
    "jaro_winkler_similarity",
    # numbers
    "abs", "round", "floor", "ceil", "ceiling", "trunc", "sqrt", "cbrt", "exp", "ln", "log",
    "log10", "log2", "pow", "power", "sign", "greatest", "least", "mod", "isnan", "isinf",
    "isfinite", "pi", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "degrees", "radians",
    "even", "gcd", "lcm", "round_even",
    # dates and times
    "date_part", "datepart", "date_trunc", "datetrunc", "year", "month", "day", "hour", "minute",
    "second", "millisecond", "dayofweek", "dayofyear", "dayofmonth", "week", "weekofyear",
    "quarter", "isodow", "yearweek", "strftime", "strptime", "try_strptime", "make_date",
    "make_timestamp", "date_diff", "datediff", "date_sub", "datesub", "date_add", "epoch",
    "epoch_ms", "to_timestamp", "last_day", "monthname", "dayname", "era", "century", "decade",
    "to_days", "to_hours", "to_minutes", "to_seconds", "to_months", "to_years", "to_weeks",
    "to_milliseconds", "to_microseconds",
}  # fmt: skip


class ExpressionError(ValueError):
    """Why an expression cannot be used; the message is for the person who wrote it."""


def check_expression(text: str, columns: Sequence[Column]) -> ColumnType:
    """The type of ``text`` evaluated over a row of ``columns``, or :class:`ExpressionError`."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION} characters")
    if "\0" in text:
        raise ExpressionError("the expression contains a NUL character")
    with closing(duckdb.connect(config={"enable_external_access": False})) as cursor:
        node = _parse(cursor, text)
        for problem in _problems(node):
            raise ExpressionError(problem)
        return _bind(cursor, text, columns)


def as_sql(text: str) -> str:
    """A checked expression as it goes into a query: parenthesised, and ended by a newline so
    that a trailing ``--`` comment cannot swallow what follows."""
    return f"({text}\n)"


def _parse(cursor: duckdb.DuckDBPyConnection, text: str) -> dict[str, Any]:
    row = cursor.execute("SELECT json_serialize_sql(?)", [f"SELECT {text}\n"]).fetchall()[0]
    parsed = json.loads(row[0]) if row else {"error": True}
    if parsed.get("error"):
        message = str(parsed.get("error_message") or "it does not parse").splitlines()[0]
        if "Only SELECT statements" in message:
            raise ExpressionError("write one expression over the row's columns, not statements")
        raise ExpressionError(f"not a valid expression: {message}")
    statements = cast(list[dict[str, Any]], parsed.get("statements") or [])
    node: dict[str, Any] = statements[0].get("node", {}) if len(statements) == 1 else {}
    select = node.get("select_list") or []
    if (
        node.get("type") != "SELECT_NODE"
        or len(select) != 1
        or node.get("from_table", {}).get("type") != "EMPTY"
        or node.get("where_clause")
        or node.get("group_expressions")
        or node.get("having")
        or node.get("modifiers")
        or (node.get("cte_map") or {}).get("map")
    ):
        raise ExpressionError("write one expression over the row's columns, not a query")
    expression: dict[str, Any] = select[0]
    if expression.get("alias"):
        raise ExpressionError("an expression cannot carry an alias (AS ...)")
    return expression


def _problems(node: Any) -> Iterator[str]:
    """What the allow-list refuses in the tree ``node`` (a parsed expression)."""
    if isinstance(node, list):
        for item in node:
            yield from _problems(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("class")
    if kind is not None and kind != "TYPE":
        if kind not in _ALLOWED_CLASSES:
            yield f"{str(kind).lower().replace('_', ' ')} is not allowed in an expression"
            return
        yield from _node_problems(kind, node)
    for key, value in node.items():
        if key in ("type_expr",):
            continue
        yield from _problems(value)


def _node_problems(kind: str, node: dict[str, Any]) -> Iterator[str]:
    if kind == "FUNCTION":
        name = str(node.get("function_name", "")).lower().replace("count_star", "count")
        if node.get("schema") or node.get("catalog"):
            yield f"function {name!r} must not be qualified"
        elif name not in _FUNCTIONS and name not in _OPERATORS:
            yield (
                f"function {name!r} is not allowed (only scalar functions on text, numbers "
                "and dates)"
            )
        orders = (node.get("order_bys") or {}).get("orders")
        if node.get("filter") or node.get("distinct") or orders:
            yield f"{name}(...) cannot have FILTER, DISTINCT or ORDER BY"
    elif kind == "COLUMN_REF":
        names = node.get("column_names") or []
        if len(names) != 1:
            yield f"{'.'.join(map(str, names))!r} is not a column name (quote names with dots)"
    elif kind == "CAST":
        type_expr = node.get("type_expr") or {}
        name = str(type_expr.get("type_name", "")).upper()
        if name not in _CAST_TYPES or (type_expr.get("children") and name not in _DECIMALS):
            yield (
                f"cannot cast to {name or 'that type'}; cast to BIGINT, DOUBLE, BOOLEAN, "
                "DATE, TIMESTAMP or VARCHAR"
            )


_DECIMALS = {"DECIMAL", "NUMERIC"}


def _bind(cursor: duckdb.DuckDBPyConnection, text: str, columns: Sequence[Column]) -> ColumnType:
    """Bind the expression over an empty table of ``columns``: DuckDB reports unknown columns
    and type errors as it would at run time, without reading a row."""
    fields = ", ".join(
        f"CAST(NULL AS {STORAGE_TYPE[c['type']]}) AS {quote_ident(c['name'])}" for c in columns
    )
    empty = f"(SELECT {fields or '1 AS _'} LIMIT 0)"
    try:
        described = cursor.execute(f"DESCRIBE SELECT {as_sql(text)} FROM {empty}").fetchall()
    except duckdb.Error as problem:
        message = str(problem).split("\n")[0]
        for prefix in ("Binder Error: ", "Parser Error: ", "Conversion Error: "):
            message = message.removeprefix(prefix)
        unknown = _UNKNOWN_COLUMN.search(message)
        if unknown:
            names = ", ".join(repr(c["name"]) for c in columns[:20])
            message = f"unknown column {unknown.group(1)!r}; columns are {names}"
        raise ExpressionError(message) from None
    return cast_target(str(described[0][1]))
