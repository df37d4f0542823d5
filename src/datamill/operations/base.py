"""What every cleaning operation is made of: typed parameters, the table it reads, the SQL it plans.

An operation never touches files itself. It receives a :class:`Table` (the input revision as a
SQL source, its columns, a DuckDB cursor for the statistics it needs first) and returns a
:class:`Plan`: one ``SELECT`` over that source. :mod:`datamill.operations.apply` runs the plan
into a new Parquet file, so every operation is out of core, cancellable and measured the same way.

Parameters are pydantic models. A field that names a column is typed :data:`Col` (or
:data:`NumCol`, :data:`TextCol`, :data:`NewCol`...), which both documents it in the JSON
Schema (``x-column``, so a form can offer a column picker) and lets :func:`column_errors` check
it against the revision before anything is queued: an unknown column is a 422 naming the field,
never a failed run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from datamill.datasets.ingest.output import literal
from datamill.datasets.types import COLUMN_TYPES, Column, ColumnType, quote_ident
from datamill.datasets.view import known_columns
from datamill.problems import field_error

MAX_COLUMN_NAME = 256
NUMERIC: tuple[ColumnType, ...] = ("int", "float")
ORDERED: tuple[ColumnType, ...] = ("int", "float", "date", "timestamp")


@dataclass(frozen=True)
class ColumnRef:
    """Marks a parameter that names a column: an existing one of ``types``, or a new one."""

    types: tuple[ColumnType, ...] = COLUMN_TYPES
    new: bool = False


def _named(types: tuple[ColumnType, ...], new: bool = False) -> Any:
    """The pydantic field of a column name; ``x-column`` tells a form to offer a column picker."""
    extra: dict[str, Any] = {"x-column": {"types": list(types), "new": new}}
    return Field(min_length=1, max_length=MAX_COLUMN_NAME, json_schema_extra=extra)


Col = Annotated[str, _named(COLUMN_TYPES), ColumnRef()]
NumCol = Annotated[str, _named(NUMERIC), ColumnRef(NUMERIC)]
OrderedCol = Annotated[str, _named(ORDERED), ColumnRef(ORDERED)]
TextCol = Annotated[str, _named(("text",)), ColumnRef(("text",))]
NewCol = Annotated[str, _named(COLUMN_TYPES, new=True), ColumnRef(new=True)]


class OperationError(Exception):
    """The data makes the operation impossible (strict change type met a bad value, say): the
    run fails with this message and no revision is made."""


class Params(BaseModel):
    """The parameters of an operation; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        """Problems that need the table (its columns beyond existence and type, its row
        count); ``loc`` relative to the parameters."""
        return []


@dataclass(frozen=True)
class Table:
    """The input of an operation: a revision as a SQL source, its columns and row count."""

    path: Path
    columns: list[Column]
    rows: int
    cursor: duckdb.DuckDBPyConnection

    @property
    def source(self) -> str:
        """``read_parquet(...)`` of the revision (paths are Datamill's own, never a user's)."""
        return f"read_parquet({literal(str(self.path))})"

    @property
    def numbered(self) -> str:
        """The source with DuckDB's ``file_row_number``: each row's position in the revision."""
        return f"read_parquet({literal(str(self.path))}, file_row_number = true)"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c["name"] == name)

    def names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        """The single row of a statistics query over :attr:`source`."""
        rows = self.cursor.execute(sql, list(params)).fetchall()  # fetchone leaves it open
        return tuple(rows[0])


@dataclass(frozen=True)
class Plan:
    """What an operation does: a ``SELECT`` (with bound parameters) giving the new table, and
    what it found on the way (counts shown in the history)."""

    select: str
    params: list[Any] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    ordered: bool = True
    """Whether the rows come out in the order the SELECT gives (an ORDER BY or the source's
    order); DuckDB keeps that order when it writes."""


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class Operation(Generic[P]):
    """One entry of the catalogue: its name, family, what it does, its parameters, its plan."""

    name: str
    family: str
    summary: str
    params: type[P]
    plan: Callable[[P, Table], Plan]
    example: Mapping[str, Any]

    families: ClassVar[tuple[str, ...]] = (
        "columns",
        "rows",
        "missing",
        "text",
        "numbers",
        "outliers",
        "encoding",
        "cells",
        "clustering",
    )

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()


# -- checking column references -----------------------------------------------------------------


def column_errors(params: Params, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
    """Every parameter naming a column that does not exist (or exists, for a new column), or
    has a type the operation cannot use; then the operation's own checks. ``loc`` is relative to
    the parameters."""
    by_name = {c["name"]: c for c in columns}
    errors: list[dict[str, Any]] = []
    for name, info in type(params).model_fields.items():
        value = getattr(params, name)
        for loc, ref, column in _refs(info.annotation, info.metadata, value, [name]):
            errors.extend(_ref_errors(loc, ref, column, by_name))
    if not errors:
        errors.extend(params.check(columns, rows))
    return errors


def _ref_errors(
    loc: list[str | int], ref: ColumnRef, name: str, by_name: Mapping[str, Column]
) -> list[dict[str, Any]]:
    found = by_name.get(name)
    if ref.new:
        clash = next((other for other in by_name if same_name(other, name)), None)
        if clash is not None:
            return [field_error(loc, f"there is already a column {clash!r}")]
        return []
    if found is None:
        return [field_error(loc, f"unknown column {name!r}; {known_columns(by_name)}")]
    if found["type"] not in ref.types:
        wanted = " or ".join(ref.types)
        return [field_error(loc, f"column {name!r} is {found['type']}; expected {wanted}")]
    return []


def _refs(
    annotation: Any, metadata: Sequence[Any], value: Any, loc: list[str | int]
) -> Iterator[tuple[list[str | int], ColumnRef, str]]:
    """The column names in ``value``, found by walking its annotation for :class:`ColumnRef`."""
    if value is None:
        return
    for item in metadata:
        if isinstance(item, ColumnRef) and isinstance(value, str):
            yield loc, item, value
            return
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        yield from _refs(inner, extra, value, loc)
    elif origin in (list, tuple) and isinstance(value, list | tuple):
        args = get_args(annotation)
        for index, item in enumerate(value):
            yield from _refs(args[0], (), item, [*loc, index])
    elif origin is dict and isinstance(value, dict):
        key_type, value_type = get_args(annotation)
        for key, item in value.items():
            yield from _refs(key_type, (), key, [*loc, key])
            yield from _refs(value_type, (), item, [*loc, key])
    elif origin is Union or str(origin) == "<class 'types.UnionType'>":
        for option in get_args(annotation):
            if option is not type(None):
                yield from _refs(option, (), value, loc)
    elif isinstance(annotation, type) and issubclass(annotation, Params):
        for name, info in annotation.model_fields.items():
            yield from _refs(info.annotation, info.metadata, getattr(value, name), [*loc, name])


# -- SQL pieces shared by the families ----------------------------------------------------------


def ident(name: str) -> str:
    return quote_ident(name)


def select_replacing(table: Table, replaced: Mapping[str, str]) -> str:
    """The select list of every column in order, some replaced by an expression."""
    return ", ".join(
        f"{replaced[name]} AS {ident(name)}" if name in replaced else ident(name)
        for name in table.names()
    )


def number_literal(value: float | int) -> str:
    """A SQL literal for a finite number (parameters are not allowed in every position)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return repr(int(value)) if isinstance(value, int) else f"CAST({value!r} AS DOUBLE)"


def same_name(a: str, b: str) -> bool:
    """Whether two column names are one for DuckDB, which ignores case even when quoted."""
    return a.casefold() == b.casefold()


def duckdb_problem(sql: str, value: str) -> str | None:
    """What DuckDB says when ``sql`` runs with ``value`` bound (a pattern or a format to try),
    or None when it runs: checked before anything is queued."""
    with duckdb.connect(config={"enable_external_access": False}) as cursor:
        try:
            cursor.execute(sql, [value]).fetchall()
        except duckdb.Error as problem:
            return str(problem).split(": ", 1)[-1].splitlines()[0]
    return None


def helper(table: Table, wanted: str) -> str:
    """A name for a column a plan needs on the way, that no column of the table has."""
    return unique_name(wanted, [*table.names(), "file_row_number"])


def unique_name(wanted: str, taken: Sequence[str]) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``... the first that is not taken (in any case)."""
    names = {name.casefold() for name in taken}
    if wanted.casefold() not in names:
        return wanted
    counter = 2
    while f"{wanted}_{counter}".casefold() in names:
        counter += 1
    return f"{wanted}_{counter}"
