"""Comparing two revisions of a dataset: columns added, removed and retyped; rows added,
removed and changed, with a sample of each.

Revisions carry no row ids, so rows are matched in one of three ways, said in the reply:

- ``key``: by the values of key columns the caller names (a row whose key is in both revisions
  and whose other values differ is *changed*);
- ``position``: when no key is given and both revisions have as many rows, row *n* of one with
  row *n* of the other (operations that edit values keep rows in place);
- ``content``: otherwise, as multisets of whole rows (on the columns both have): rows only in
  the newer revision are *added*, rows only in the older *removed*, none is *changed*.

Columns in both revisions are compared by value; a retyped column by its text form. Everything
runs in DuckDB over the two Parquet files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from datamill.datasets.types import Column, quote_ident
from datamill.datasets.view import ROW_NUMBER, text_form
from datamill.problems import Invalid, field_error

Match = Literal["key", "position", "content"]
MAX_SAMPLE = 100


@dataclass(frozen=True)
class Side:
    path: Path
    columns: list[Column]
    rows: int


def compare_revisions(
    cursor: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    key: list[str],
    sample: int,
) -> dict[str, Any]:
    """What changed from ``old`` to ``new`` (see the module's docstring)."""
    before = {c["name"]: c for c in old.columns}
    after = {c["name"]: c for c in new.columns}
    if ROW_NUMBER in before or ROW_NUMBER in after:
        raise Invalid(
            f"A column named {ROW_NUMBER!r} hides the rows' positions: rename it to compare."
        )
    common = [name for name in after if name in before]
    for index, name in enumerate(key):
        if name not in common:
            raise Invalid(
                f"Key column {name!r} is not in both revisions.",
                errors=[field_error(["query", "key", index], "not in both revisions")],
            )
    columns = {
        "added": [name for name in after if name not in before],
        "removed": [name for name in before if name not in after],
        "retyped": [
            {"column": name, "from": before[name]["type"], "to": after[name]["type"]}
            for name in common
            if before[name]["type"] != after[name]["type"]
        ],
    }
    values = {name: _comparable(before[name], after[name]) for name in common}
    if key:
        match: Match = "key"
        _check_unique(cursor, old, key, "from")
        _check_unique(cursor, new, key, "to")
        rows = _by_key(cursor, old, new, key, common, values, sample)
    elif old.rows == new.rows:
        match = "position"
        rows = _by_position(cursor, old, new, common, values, sample)
    else:
        match = "content"
        rows = _by_content(cursor, old, new, common, values, sample)
    return {"match": match, "rows_before": old.rows, "rows_after": new.rows, "columns": columns,
            "common_columns": common, **rows}  # fmt: skip


def _check_unique(
    cursor: duckdb.DuckDBPyConnection, side: Side, key: list[str], which: str
) -> None:
    """``Invalid`` unless the key identifies each row of ``side``: a repeated key would match
    rows many to many."""
    keys = ", ".join(quote_ident(k) for k in key)
    path = str(side.path).replace("'", "''")
    repeated = cursor.execute(
        f"SELECT count(*) FROM (SELECT {keys} FROM read_parquet('{path}') "
        f"GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()[0][0]
    if repeated:
        raise Invalid(
            f"The key ({', '.join(key)}) is not unique in the {which} revision: {repeated} "
            "values repeat. Choose columns that identify a row.",
            errors=[field_error(["query", "key"], "not unique")],
        )


def _comparable(old: Column, new: Column) -> tuple[str, str]:
    """How a column in both revisions is compared: as is, or by its text form if retyped."""
    if old["type"] == new["type"]:
        return quote_ident(old["name"]), quote_ident(new["name"])
    return text_form(old), text_form(new)


def _source(side: Side) -> str:
    path = str(side.path).replace("'", "''")
    return f"read_parquet('{path}', file_row_number = true)"


def _differs(common: list[str]) -> str:
    return " OR ".join(f"o_{i} IS DISTINCT FROM n_{i}" for i, _ in enumerate(common)) or "FALSE"


def _projection(
    side: int, common: list[str], values: dict[str, tuple[str, str]], prefix: str = ""
) -> str:
    """The compared form of each common column of one side, named ``o_0``... or ``n_0``..."""
    prefix = prefix or ("o" if side == 0 else "n")
    return (
        ", ".join(f"{values[name][side]} AS {prefix}_{i}" for i, name in enumerate(common))
        or f"1 AS {prefix}_none"
    )


def _by_position(
    cursor: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    common: list[str],
    values: dict[str, tuple[str, str]],
    sample: int,
) -> dict[str, Any]:
    joined = (
        f"(SELECT {ROW_NUMBER} AS pos, {_projection(0, common, values)} "
        f"FROM {_source(old)}) o JOIN "
        f"(SELECT {ROW_NUMBER} AS pos, {_projection(1, common, values)} "
        f"FROM {_source(new)}) n USING (pos)"
    )
    changed_cells = (
        ", ".join(
            f"count(*) FILTER (WHERE o_{i} IS DISTINCT FROM n_{i})" for i, _ in enumerate(common)
        )
        or "0"
    )
    differs = _differs(common)
    counts = cursor.execute(
        f"SELECT count(*) FILTER (WHERE {differs}), {changed_cells} FROM {joined}"
    ).fetchall()[0]
    pairs = ", ".join(f"o_{i}, n_{i}" for i, _ in enumerate(common)) or "1, 1"
    sample_rows = cursor.execute(
        f"SELECT pos, {pairs} FROM {joined} WHERE {differs} ORDER BY pos LIMIT {int(sample)}"
    ).fetchall()
    return {
        "added": 0,
        "removed": 0,
        "changed": int(counts[0]),
        "cells_changed": {
            name: int(count) for name, count in zip(common, counts[1:], strict=False) if count
        },
        "sample": {
            "changed": [_changed_row(row, common) for row in sample_rows],
            "added": [],
            "removed": [],
        },
    }


def _changed_row(row: tuple[Any, ...], common: list[str]) -> dict[str, Any]:
    """A changed row: its position (or key) and, per column that differs, before and after."""
    where, *pairs = row
    cells = {
        name: {"before": _json(pairs[2 * i]), "after": _json(pairs[2 * i + 1])}
        for i, name in enumerate(common)
        if pairs[2 * i] != pairs[2 * i + 1]
    }
    return {"at": _json(where), "cells": cells}


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _by_key(
    cursor: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    key: list[str],
    common: list[str],
    values: dict[str, tuple[str, str]],
    sample: int,
) -> dict[str, Any]:
    keys_old = ", ".join(f"{values[k][0]} AS k_{i}" for i, k in enumerate(key))
    keys_new = ", ".join(f"{values[k][1]} AS k_{i}" for i, k in enumerate(key))
    on = " AND ".join(f"o.k_{i} IS NOT DISTINCT FROM n.k_{i}" for i in range(len(key)))
    joined = (
        f"(SELECT {keys_old}, true AS o_here, {_projection(0, common, values)} "
        f"FROM {_source(old)}) o FULL JOIN "
        f"(SELECT {keys_new}, true AS n_here, {_projection(1, common, values)} "
        f"FROM {_source(new)}) n ON {on}"
    )
    differs = _differs(common)
    both = f"o_here AND n_here AND ({differs})"
    added, removed, changed = cursor.execute(
        f"SELECT count(*) FILTER (WHERE o_here IS NULL), count(*) FILTER (WHERE n_here IS NULL), "
        f"count(*) FILTER (WHERE {both}) FROM {joined}"
    ).fetchall()[0]
    key_of = ", ".join(f"CAST(COALESCE(o.k_{i}, n.k_{i}) AS VARCHAR)" for i in range(len(key)))
    pairs = ", ".join(f"o_{i}, n_{i}" for i, _ in enumerate(common))
    changed_rows = cursor.execute(
        f"SELECT [{key_of}], {pairs} FROM {joined} WHERE {both} ORDER BY {key_of} "
        f"LIMIT {int(sample)}"
    ).fetchall()
    return {
        "added": int(added),
        "removed": int(removed),
        "changed": int(changed),
        "cells_changed": {},
        "sample": {
            "changed": [_changed_row(row, common) for row in changed_rows],
            "added": _sample(cursor, joined, "n", "o_here IS NULL", common, sample),
            "removed": _sample(cursor, joined, "o", "n_here IS NULL", common, sample),
        },
    }


def _sample(
    cursor: duckdb.DuckDBPyConnection,
    joined: str,
    side: str,
    condition: str,
    common: list[str],
    sample: int,
) -> list[list[Any]]:
    """Rows of one side (the columns both revisions have) matching ``condition``."""
    names = ", ".join(f"{side}_{i}" for i, _ in enumerate(common))
    rows = cursor.execute(
        f"SELECT {names} FROM {joined} WHERE {condition} LIMIT {int(sample)}"
    ).fetchall()
    return [[_json(value) for value in row] for row in rows]


def _by_content(
    cursor: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    common: list[str],
    values: dict[str, tuple[str, str]],
    sample: int,
) -> dict[str, Any]:
    olds = f"SELECT {_projection(0, common, values, 'c')} FROM {_source(old)}"
    news = f"SELECT {_projection(1, common, values, 'c')} FROM {_source(new)}"
    added_sql = f"({news} EXCEPT ALL {olds})"
    removed_sql = f"({olds} EXCEPT ALL {news})"
    added, removed = cursor.execute(
        f"SELECT (SELECT count(*) FROM {added_sql}), (SELECT count(*) FROM {removed_sql})"
    ).fetchall()[0]

    def rows_of(sql: str) -> list[list[Any]]:
        found = cursor.execute(f"SELECT * FROM {sql} LIMIT {int(sample)}").fetchall()
        return [[_json(value) for value in row] for row in found]

    return {
        "added": int(added),
        "removed": int(removed),
        "changed": 0,
        "cells_changed": {},
        "sample": {"changed": [], "added": rows_of(added_sql), "removed": rows_of(removed_sql)},
    }
