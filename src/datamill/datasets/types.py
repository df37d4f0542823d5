"""The six column types every revision is normalised to, and their mapping from DuckDB types.

Ingest casts anything else (decimals, small ints, nested values, times) to one of these, so every
later reader — query, profile, export, the grid — handles exactly six cases.
"""

from __future__ import annotations

from typing import Literal, TypedDict

ColumnType = Literal["int", "float", "bool", "date", "timestamp", "text"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("int", "float", "bool", "date", "timestamp", "text")

# What each Datamill type is stored as in Parquet (through DuckDB).
STORAGE_TYPE: dict[ColumnType, str] = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "text": "VARCHAR",
}

_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}


class Column(TypedDict):
    name: str
    type: ColumnType


def column_type(duckdb_type: str) -> ColumnType | None:
    """The Datamill type stored unchanged for a DuckDB type, or None when it must be cast."""
    upper = duckdb_type.upper()
    if upper in _INTS:
        return "int"
    if upper == "DOUBLE":
        return "float"
    if upper == "BOOLEAN":
        return "bool"
    if upper == "DATE":
        return "date"
    if upper == "TIMESTAMP":
        return "timestamp"
    if upper == "VARCHAR":
        return "text"
    return None


def cast_target(duckdb_type: str) -> ColumnType:
    """The Datamill type a DuckDB type is cast to on ingest."""
    direct = column_type(duckdb_type)
    if direct is not None:
        return direct
    upper = duckdb_type.upper()
    if upper in {"FLOAT", "REAL", "HUGEINT", "UBIGINT", "UHUGEINT"} or upper.startswith("DECIMAL"):
        return "float"
    if upper.startswith("TIMESTAMP"):  # with time zone, _S, _MS, _NS
        return "timestamp"
    return "text"


def quote_ident(name: str) -> str:
    """A SQL identifier for any column name: double quotes, embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
