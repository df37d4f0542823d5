"""Column operations: rename, delete, reorder, duplicate, change type, split, merge, derive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from datamill.datasets.ingest.output import literal
from datamill.datasets.types import Column, ColumnType
from datamill.datasets.view import text_form
from datamill.operations.base import (
    Col,
    NewCol,
    Operation,
    OperationError,
    Params,
    Plan,
    Table,
    TextCol,
    duckdb_problem,
    ident,
    select_replacing,
    unique_name,
)
from datamill.operations.expressions import ExpressionError, as_sql, check_expression
from datamill.problems import field_error

MAX_SPLIT_COLUMNS = 100
_TRUE = ("true", "t", "yes", "y", "1", "on")
_FALSE = ("false", "f", "no", "n", "0", "off")


class RenameColumns(Params):
    names: dict[Col, str] = Field(min_length=1, description="Old name: new name.")

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        errors = []
        kept = [c["name"].casefold() for c in columns if c["name"] not in self.names]
        new = [name.casefold() for name in self.names.values()]
        for old, name in self.names.items():
            if not name.strip() or len(name) > 256:
                errors.append(field_error(["names", old], "a name is 1 to 256 characters"))
            elif name.casefold() in kept or new.count(name.casefold()) > 1:
                errors.append(field_error(["names", old], f"there would be two columns {name!r}"))
        return errors


def rename_columns(params: RenameColumns, table: Table) -> Plan:
    select = ", ".join(f"{ident(c)} AS {ident(params.names.get(c, c))}" for c in table.names())
    return Plan(f"SELECT {select} FROM {table.source}")


class DeleteColumns(Params):
    columns: list[Col] = Field(min_length=1)


def delete_columns(params: DeleteColumns, table: Table) -> Plan:
    kept = [ident(c) for c in table.names() if c not in params.columns]
    if not kept:
        raise OperationError("a table keeps at least one column")
    return Plan(f"SELECT {', '.join(kept)} FROM {table.source}")


class ReorderColumns(Params):
    columns: list[Col] = Field(
        min_length=1, description="These columns first, in this order; the others follow."
    )

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        seen: set[str] = set()
        errors = []
        for index, name in enumerate(self.columns):
            if name in seen:
                errors.append(field_error(["columns", index], f"{name!r} is listed twice"))
            seen.add(name)
        return errors


def reorder_columns(params: ReorderColumns, table: Table) -> Plan:
    order = [*params.columns, *(c for c in table.names() if c not in params.columns)]
    return Plan(f"SELECT {', '.join(ident(c) for c in order)} FROM {table.source}")


class DuplicateColumn(Params):
    column: Col
    name: NewCol | None = Field(default=None, description="Default: <column>_copy.")


def duplicate_column(params: DuplicateColumn, table: Table) -> Plan:
    name = params.name or unique_name(f"{params.column}_copy", table.names())
    copy = f"{ident(params.column)} AS {ident(name)}"
    return Plan(f"SELECT {_after(table, params.column, [copy])} FROM {table.source}")


def _after(table: Table, anchor: str, added: Sequence[str], drop: Sequence[str] = ()) -> str:
    """The select list with ``added`` expressions right after column ``anchor``."""
    items: list[str] = []
    for name in table.names():
        if name not in drop:
            items.append(ident(name))
        if name == anchor:
            items.extend(added)
    return ", ".join(items)


class ChangeType(Params):
    column: Col
    to: ColumnType
    strict: bool = Field(
        default=False,
        description="Fail when a value cannot be converted, instead of making it null.",
    )
    format: str | None = Field(
        default=None,
        max_length=100,
        description="For date and timestamp from text: a strptime format such as %d/%m/%Y.",
    )

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        source = next(c["type"] for c in columns if c["name"] == self.column)
        if self.to in ("date", "timestamp") and source not in ("text", "date", "timestamp"):
            return [field_error(["to"], f"a {source} column cannot become a {self.to}")]
        if source in ("date", "timestamp") and self.to in ("int", "float", "bool"):
            return [field_error(["to"], f"a {source} column cannot become {self.to}")]
        if self.format is not None and (source != "text" or self.to not in ("date", "timestamp")):
            return [field_error(["format"], "a format applies to text becoming a date or time")]
        if self.format is not None:
            problem = duckdb_problem("SELECT try_strptime('', ?)", self.format)
            if problem:
                return [field_error(["format"], f"not a strptime format: {problem}")]
        return []


def change_type(params: ChangeType, table: Table) -> Plan:
    column = table.column(params.column)
    converted = _converted(column, params.to, params.format)
    name = ident(params.column)
    present = f"{name} IS NOT NULL" + (
        f" AND trim({name}) <> ''" if column["type"] == "text" else ""
    )
    failed, example = table.one(
        f"SELECT count(*) FILTER (WHERE {present} AND {converted} IS NULL), "
        f"first({name}) FILTER (WHERE {present} AND {converted} IS NULL) FROM {table.source}"
    )
    if failed and params.strict:
        raise OperationError(
            f"{failed} value{'s' if failed != 1 else ''} of {params.column!r} cannot be read "
            f"as {params.to}, the first {str(example)[:80]!r}"
        )
    select = select_replacing(table, {params.column: converted})
    return Plan(f"SELECT {select} FROM {table.source}", details={"unconverted": failed})


def _converted(column: Column, to: ColumnType, format: str | None) -> str:
    """SQL converting ``column`` to ``to``; null where a value cannot be converted."""
    name, source = ident(column["name"]), column["type"]
    if source == to:
        return name
    if to == "text":
        return text_form(column)
    if source == "text":
        value = f"trim({name})"
        if to == "bool":
            return (
                f"CASE WHEN lower({value}) IN {_TRUE!r} THEN TRUE "
                f"WHEN lower({value}) IN {_FALSE!r} THEN FALSE END"
            )
        if format is not None and to in ("date", "timestamp"):
            parsed = f"try_strptime({value}, {literal(format)})"
            return f"CAST({parsed} AS DATE)" if to == "date" else parsed
        storage = {"int": "BIGINT", "float": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}
        if to == "int":  # "3.0" and "1e3" are integers too, "3.5" is not (DuckDB would round)
            as_float = f"TRY_CAST({value} AS DOUBLE)"
            return (
                f"CASE WHEN regexp_full_match({value}, '[+-]?[0-9]+') "
                f"THEN TRY_CAST({value} AS BIGINT) WHEN {as_float} = round({as_float}) "
                f"THEN TRY_CAST({as_float} AS BIGINT) END"
            )
        return f"TRY_CAST({value} AS {storage[to]})"
    if to == "bool":
        return f"CASE WHEN isnan(CAST({name} AS DOUBLE)) THEN NULL ELSE {name} <> 0 END"
    if to == "int" and source == "float":
        return f"CASE WHEN {name} = round({name}) THEN TRY_CAST({name} AS BIGINT) END"
    storage = {"int": "BIGINT", "float": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}
    return f"TRY_CAST({name} AS {storage[to]})"


class SplitColumn(Params):
    column: TextCol
    delimiter: str | None = Field(default=None, min_length=1, max_length=100)
    pattern: str | None = Field(
        default=None, min_length=1, max_length=1000, description="A regular expression (RE2)."
    )
    remove_original: bool = False

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        if (self.delimiter is None) == (self.pattern is None):
            return [field_error(["delimiter"], "give either a delimiter or a pattern")]
        if self.pattern is not None:
            problem = duckdb_problem("SELECT regexp_matches('', ?)", self.pattern)
            if problem:
                return [field_error(["pattern"], problem)]
        return []


def split_column(params: SplitColumn, table: Table) -> Plan:
    name = ident(params.column)
    if params.delimiter is not None:
        parts = f"string_split({name}, {literal(params.delimiter)})"
    else:
        parts = f"regexp_split_to_array({name}, {literal(params.pattern or '')})"
    (count,) = table.one(f"SELECT COALESCE(max(len({parts})), 0) FROM {table.source}")
    if count > MAX_SPLIT_COLUMNS:
        raise OperationError(
            f"splitting {params.column!r} would make {count} columns; at most {MAX_SPLIT_COLUMNS}"
        )
    taken = [c for c in table.names() if not (params.remove_original and c == params.column)]
    added: list[str] = []
    for index in range(1, max(int(count), 1) + 1):
        new = unique_name(f"{params.column}_{index}", taken)
        taken.append(new)
        added.append(f"{parts}[{index}] AS {ident(new)}")
    drop = [params.column] if params.remove_original else []
    return Plan(
        f"SELECT {_after(table, params.column, added, drop)} FROM {table.source}",
        details={"columns_made": len(added)},
    )


class MergeColumns(Params):
    columns: list[Col] = Field(min_length=2)
    separator: str = Field(default=" ", max_length=100)
    name: NewCol
    remove_originals: bool = False


def merge_columns(params: MergeColumns, table: Table) -> Plan:
    texts = ", ".join(text_form(table.column(c)) for c in params.columns)
    merged = f"concat_ws({literal(params.separator)}, {texts}) AS {ident(params.name)}"
    last = max(params.columns, key=table.names().index)
    drop = params.columns if params.remove_originals else []
    return Plan(f"SELECT {_after(table, last, [merged], drop)} FROM {table.source}")


class DeriveColumn(Params):
    name: NewCol
    expression: str = Field(
        min_length=1,
        max_length=4000,
        description="A SQL expression over the row's columns: arithmetic, text and date "
        "functions, CASE. Example: price * quantity.",
    )

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        try:
            check_expression(self.expression, columns)
        except ExpressionError as problem:
            return [field_error(["expression"], str(problem))]
        return []


def derive_column(params: DeriveColumn, table: Table) -> Plan:
    derived = f"{as_sql(params.expression)} AS {ident(params.name)}"
    return Plan(f"SELECT *, {derived} FROM {table.source}")


def _op(name: str, summary: str, params: Any, plan: Any, example: dict[str, Any]) -> Operation[Any]:
    return Operation(name, "columns", summary, params, plan, example)


OPERATIONS: list[Operation[Any]] = [
    _op("rename-columns", "Rename columns.", RenameColumns, rename_columns,
        {"names": {"cty": "city"}}),
    _op("delete-columns", "Delete columns.", DeleteColumns, delete_columns,
        {"columns": ["notes"]}),
    _op("reorder-columns", "Move columns to the front, in the order given.", ReorderColumns,
        reorder_columns, {"columns": ["id", "city"]}),
    _op("duplicate-column", "Copy a column beside itself (<name>_copy).", DuplicateColumn,
        duplicate_column, {"column": "price"}),
    _op("change-type", "Change a column's type; values that cannot be converted become null "
        "(and are counted), or fail the operation when strict.", ChangeType, change_type,
        {"column": "price", "to": "float"}),
    _op("split-column", "Split a text column by a delimiter or a regular expression into new "
        "columns <name>_1, <name>_2...", SplitColumn, split_column,
        {"column": "name", "delimiter": " "}),
    _op("merge-columns", "Join columns' text with a separator into a new column (nulls skipped).",
        MergeColumns, merge_columns,
        {"columns": ["first", "last"], "separator": " ", "name": "full_name"}),
    _op("derive-column", "A new column computed by a SQL expression over each row.",
        DeriveColumn, derive_column, {"name": "total", "expression": "price * quantity"}),
]  # fmt: skip
