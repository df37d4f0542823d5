"""Text operations: trim and collapse whitespace, change case, find and replace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from datamill.datasets.ingest.output import literal
from datamill.datasets.types import Column
from datamill.operations.base import (
    Operation,
    Params,
    Plan,
    Table,
    TextCol,
    duckdb_problem,
    ident,
    select_replacing,
)
from datamill.problems import field_error

MAX_REPLACEMENTS = 100


def _text_columns(table: Table, chosen: Sequence[str] | None) -> list[str]:
    return list(chosen) if chosen else [c["name"] for c in table.columns if c["type"] == "text"]


class TrimWhitespace(Params):
    columns: list[TextCol] | None = Field(
        default=None, description="Text columns (default: every text column)."
    )
    collapse: bool = Field(
        default=True, description="Also make every run of whitespace inside one space."
    )


def trim_whitespace(params: TrimWhitespace, table: Table) -> Plan:
    """Spaces, tabs and line breaks are removed at both ends (and collapsed inside)."""
    replaced = {}
    for name in _text_columns(table, params.columns):
        value = f"regexp_replace({ident(name)}, '^\\s+|\\s+$', '', 'g')"
        if params.collapse:
            value = f"regexp_replace({value}, '\\s+', ' ', 'g')"
        replaced[name] = value
    return Plan(f"SELECT {select_replacing(table, replaced)} FROM {table.source}")


class ChangeCase(Params):
    columns: list[TextCol] = Field(min_length=1)
    case: Literal["upper", "lower", "title"]


def change_case(params: ChangeCase, table: Table) -> Plan:
    """Title case capitalises the first letter of every whitespace-separated word and lowers
    the rest (as OpenRefine's toTitlecase does)."""
    replaced = {}
    for name in params.columns:
        column = ident(name)
        if params.case == "title":
            tokens = f"regexp_extract_all({column}, '\\s+|\\S+')"
            words = f"list_transform({tokens}, lambda t: upper(t[1]) || lower(t[2:]))"
            replaced[name] = f"array_to_string({words}, '')"
        else:
            replaced[name] = f"{params.case}({column})"
    return Plan(f"SELECT {select_replacing(table, replaced)} FROM {table.source}")


class Replacement(Params):
    find: str = Field(min_length=1, max_length=1000)
    replace: str = Field(default="", max_length=10_000)


class FindReplace(Params):
    columns: list[TextCol] = Field(min_length=1)
    replacements: list[Replacement] = Field(
        min_length=1, max_length=MAX_REPLACEMENTS, description="Applied one after the other."
    )
    mode: Literal["literal", "regex"] = Field(
        default="literal",
        description="regex: RE2 patterns; the replacement may use \\1 for a group.",
    )
    whole_cell: bool = Field(default=False, description="Replace only cells matching entirely.")
    case_sensitive: bool = True

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if self.mode != "regex":
            return []
        return [
            field_error(["replacements", index, "find"], problem)
            for index, item in enumerate(self.replacements)
            if (problem := duckdb_problem("SELECT regexp_matches('', ?)", item.find))
        ]


def find_replace(params: FindReplace, table: Table) -> Plan:
    replaced = {}
    for name in params.columns:
        value = ident(name)
        for item in params.replacements:
            value = _replaced(value, item, params)
        replaced[name] = value
    return Plan(f"SELECT {select_replacing(table, replaced)} FROM {table.source}")


def _replaced(value: str, item: Replacement, params: FindReplace) -> str:
    if params.mode == "literal" and params.case_sensitive:
        if params.whole_cell:
            found, put = literal(item.find), literal(item.replace)
            return f"CASE WHEN {value} = {found} THEN {put} ELSE {value} END"
        return f"replace({value}, {literal(item.find)}, {literal(item.replace)})"
    pattern = (
        f"regexp_escape({literal(item.find)})" if params.mode == "literal" else literal(item.find)
    )
    plain = params.mode == "literal"
    replacement = literal(_escape_replacement(item.replace) if plain else item.replace)
    options = "" if params.case_sensitive else "i"
    if params.whole_cell:
        anchored = f"'^(?:' || {pattern} || ')$'"
        return (
            f"CASE WHEN regexp_full_match({value}, {pattern}{_with(options)}) "
            f"THEN regexp_replace({value}, {anchored}, {replacement}{_with(options)}) "
            f"ELSE {value} END"
        )
    return f"regexp_replace({value}, {pattern}, {replacement}, 'g{options}')"


def _with(options: str) -> str:
    return f", '{options}'" if options else ""


def _escape_replacement(text: str) -> str:
    """A literal replacement for ``regexp_replace``: its backslashes doubled."""
    return text.replace("\\", "\\\\")


def _op(name: str, summary: str, params: Any, plan: Any, example: dict[str, Any]) -> Operation[Any]:
    return Operation(name, "text", summary, params, plan, example)


OPERATIONS: list[Operation[Any]] = [
    _op("trim-whitespace", "Remove whitespace at both ends of text, and collapse runs inside.",
        TrimWhitespace, trim_whitespace, {"columns": ["city"], "collapse": True}),
    _op("change-case", "Make text upper case, lower case or title case.", ChangeCase,
        change_case, {"columns": ["city"], "case": "title"}),
    _op("find-replace", "Replace text: several patterns at once, literal or regular "
        "expressions, in substrings or whole cells.", FindReplace, find_replace,
        {"columns": ["city"], "replacements": [{"find": "NYC", "replace": "New York"}],
         "whole_cell": True}),
]  # fmt: skip
