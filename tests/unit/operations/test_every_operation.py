"""Every operation of the catalogue on an empty table and on a table of extreme values: none
fails, none loses or invents rows it should not, and each keeps the columns' types."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from datamill.operations.catalog import OPERATIONS
from tests.fixtures.tables import Revision

TYPES: dict[str, Any] = {
    "id": "int", "price": "float", "city": "text", "day": "date", "at": "timestamp", "ok": "bool",
}  # fmt: skip
EXTREME: dict[str, list[Any]] = {
    "id": [2**63 - 1, -(2**63), 0, None],
    "price": [1e308, -1e308, float("nan"), None],
    "city": ["Ünïcödé 北京", "", "  spaced  out  ", None],
    "day": [date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29), None],
    "at": [datetime(1970, 1, 1), datetime(2262, 4, 11), datetime(2024, 1, 1, 12, 30), None],
    "ok": [True, False, True, None],
}

# Parameters for each operation that fit the table above.
PARAMS: dict[str, dict[str, Any]] = {
    "rename-columns": {"names": {"city": "town"}},
    "delete-columns": {"columns": ["ok"]},
    "reorder-columns": {"columns": ["city"]},
    "duplicate-column": {"column": "price"},
    "change-type": {"column": "price", "to": "text"},
    "split-column": {"column": "city", "delimiter": " "},
    "merge-columns": {"columns": ["city", "id"], "name": "both"},
    "derive-column": {"name": "half", "expression": "price / 2"},
    "delete-rows": {"rows": [0]},
    "filter-rows": {"expression": "id > 0"},
    "sort-rows": {"keys": [{"column": "price"}, {"column": "city", "desc": True}]},
    "drop-duplicates": {"columns": ["ok"]},
    "sample-rows": {"fraction": 0.5, "seed": 3},
    "empty-to-null": {},
    "fill-constant": {"column": "day", "value": "2000-01-01"},
    "fill-statistic": {"column": "id", "statistic": "median"},
    "fill-direction": {"columns": ["city", "at"], "direction": "up"},
    "interpolate": {"column": "price", "method": "time", "index": "at"},
    "drop-missing": {"columns": ["price"]},
    "trim-whitespace": {},
    "change-case": {"columns": ["city"], "case": "title"},
    "find-replace": {"columns": ["city"], "replacements": [{"find": "ü", "replace": "u"}],
                     "case_sensitive": False},
    "normalize": {"column": "price"},
    "standardize": {"column": "id"},
    "round": {"column": "price", "digits": -2},
    "clip": {"column": "price", "lower": -1, "upper": 1},
    "bin": {"column": "id", "bins": 3},
    "treat-outliers": {"column": "price", "method": "iqr", "action": "clip"},
    "one-hot": {"column": "ok"},
    "edit-cell": {"row": 0, "column": "at", "value": "2030-01-01T00:00:00"},
    "merge-clusters": {"column": "city",
                       "clusters": [{"values": ["", "  spaced  out  "], "to": "x"}]},
}  # fmt: skip
ROW_CHANGING = {"delete-rows", "filter-rows", "drop-duplicates", "sample-rows", "drop-missing"}


def test_every_operation_has_a_case_here() -> None:
    assert set(PARAMS) == set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_operation_on_extreme_values(tmp_path: Path, name: str) -> None:
    result = Revision(tmp_path, EXTREME, TYPES).apply(name, **PARAMS[name])
    if name not in ROW_CHANGING:
        assert result.applied.rows == 4
    for column, kind in TYPES.items():
        if column in result.types and name not in {"change-type", "round", "standardize"}:
            assert result.types[column] == kind, column


@pytest.mark.parametrize("name", sorted(set(PARAMS) - {"delete-rows", "edit-cell"}))
def test_every_operation_on_an_empty_table(tmp_path: Path, name: str) -> None:
    empty = Revision(tmp_path, {column: [] for column in TYPES}, TYPES)
    result = empty.apply(name, **PARAMS[name])
    assert result.applied.rows == 0
    assert result.records() == []
