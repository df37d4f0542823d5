"""The Python tasks of the demo pipeline ``coffee-report``: small, real, and importable by every
worker because they ship with the package.

Each receives its table inputs as pandas DataFrames and returns its outputs by name, as any
``python`` task does (see ``docs/pipelines.md``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd


def drop_duplicate_rows(table: pd.DataFrame) -> dict[str, object]:
    """``table`` with each group of identical rows kept once, and how many rows went."""
    kept = table.drop_duplicates(ignore_index=True)
    removed = len(table) - len(kept)
    print(f"{removed} duplicate rows removed, {len(kept)} kept")  # noqa: T201 - the step's log
    return {"table": kept, "removed": removed}


def count_values(
    table: pd.DataFrame, column: str, top: int, progress: Callable[[float, str | None], None]
) -> dict[str, object]:
    """The ``top`` most frequent values of ``column`` (spelling and case tidied first), with
    their counts."""
    if column not in table.columns:
        raise ValueError(f"there is no column {column!r}; columns: {', '.join(table.columns)}")
    progress(0.1, f"counting {len(table)} rows")
    values = table[column].astype("string").str.strip().str.title()
    counts = values.value_counts(dropna=True).head(top)
    result = pd.DataFrame({column: counts.index.astype("string"), "count": counts.to_numpy()})
    progress(1.0, None)
    return {"counts": result}
