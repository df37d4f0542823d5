"""Finding clusters of similar values in a text column: the preview before ``merge-clusters``.

Read-only and answered by the API process, like a grid page. The column's distinct values and
their counts come from DuckDB (under the grid's view, if one is given); then:

- **key collision** (``fingerprint``, ``ngram-fingerprint``): values whose keys are equal form a
  cluster (:mod:`datamill.operations.keyers`, OpenRefine's keys);
- **nearest neighbours** (``levenshtein``): values within ``radius`` edits of each other. As in
  OpenRefine, only values sharing a block — a substring of ``block_size`` characters — are
  compared, which keeps it fast on many values; values shorter than the block are compared with
  none (lower ``block_size`` to reach them). Each value and its neighbours form a cluster; a
  cluster inside a bigger one is left out.

Clusters come biggest first (rows, then distinct values); in each, the values most common
first, and the most common is suggested as the value to keep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from datamill.datasets.types import Column, quote_ident
from datamill.datasets.view import View, where_clause
from datamill.operations.keyers import fingerprint, ngram_fingerprint
from datamill.problems import Invalid, field_error

Method = Literal["fingerprint", "ngram-fingerprint", "levenshtein"]
METHODS: tuple[Method, ...] = ("fingerprint", "ngram-fingerprint", "levenshtein")
MAX_DISTINCT = 500_000
"""Distinct values clustered at most: beyond, filter the view first."""
MAX_CLUSTERS = 5_000
MAX_COMPARISONS = 20_000_000
"""Pairs of values compared by edit distance at most: beyond, raise the block size or filter."""


@dataclass(frozen=True)
class ClusterOptions:
    method: Method = "fingerprint"
    ngram_size: int = 2
    radius: float = 1.0
    block_size: int = 6


@dataclass(frozen=True)
class Cluster:
    values: list[tuple[str, int]]
    """Each value with its row count, most common first."""

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.values)

    @property
    def suggestion(self) -> str:
        return self.values[0][0]


def find_clusters(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    column: str,
    options: ClusterOptions,
    view: View | None = None,
) -> tuple[list[Cluster], int]:
    """The clusters of ``column``'s values, and how many distinct values there were."""
    counts = _distinct_values(cursor, path, columns, column, view or View())
    if options.method == "levenshtein":
        groups = _neighbour_groups(cursor, list(counts), options.radius, options.block_size)
    else:
        size = options.ngram_size
        key: Callable[[str], str] = (
            fingerprint if options.method == "fingerprint" else lambda v: ngram_fingerprint(v, size)
        )
        groups = _key_groups(counts, key)
    clusters = [
        Cluster(sorted(((v, counts[v]) for v in group), key=lambda item: (-item[1], item[0])))
        for group in groups
        if len(group) > 1
    ]
    clusters.sort(key=lambda c: (-c.rows, -len(c.values), c.suggestion))
    return clusters[:MAX_CLUSTERS], len(counts)


def _distinct_values(
    cursor: duckdb.DuckDBPyConnection, path: Path, columns: list[Column], column: str, view: View
) -> dict[str, int]:
    found = next((c for c in columns if c["name"] == column), None)
    if found is None or found["type"] != "text":
        problem = "unknown column" if found is None else f"column is {found['type']}, not text"
        raise Invalid(
            f"Clusters are found in a text column: {column!r}: {problem}.",
            errors=[field_error(["query", "column"], problem)],
        )
    name = quote_ident(column)
    where, params = where_clause(view, columns)
    condition = f"{where} AND {name} IS NOT NULL" if where else f"WHERE {name} IS NOT NULL"
    rows = cursor.execute(
        f"SELECT {name}, count(*) FROM read_parquet(?) {condition} GROUP BY {name} "
        f"LIMIT {MAX_DISTINCT + 1}",
        [str(path), *params],
    ).fetchall()
    if len(rows) > MAX_DISTINCT:
        raise Invalid(
            f"{column!r} has more than {MAX_DISTINCT:,} distinct values: filter the rows first "
            "(the filter and q parameters take the grid's view).",
            errors=[field_error(["query", "column"], "too many distinct values")],
        )
    return {str(value): int(count) for value, count in rows}


def _key_groups(counts: dict[str, int], key: Callable[[str], str]) -> list[list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for value in counts:
        groups[key(value)].append(value)
    return list(groups.values())


def _neighbour_groups(
    cursor: duckdb.DuckDBPyConnection, values: list[str], radius: float, block_size: int
) -> list[list[str]]:
    """Each value with the values within ``radius`` edits that share a block with it."""
    if len(values) < 2:
        return []
    cursor.register("cluster_values", pa.table({"v": pa.array(values, pa.string())}))
    try:
        comparisons = cursor.execute(
            """
            SELECT COALESCE(sum(n * n), 0) FROM (
                SELECT count(DISTINCT v) AS n FROM (
                    SELECT v, substr(v, unnest(range(1, length(v) - $size + 2)), $size) AS block
                    FROM cluster_values WHERE length(v) >= $size
                ) GROUP BY block
            )
            """,
            {"size": block_size},
        ).fetchall()[0][0]
        if comparisons > MAX_COMPARISONS:
            raise Invalid(
                f"Blocks of {block_size} characters would compare about {comparisons:,} pairs "
                f"of values (at most {MAX_COMPARISONS:,}): raise block_size or filter the rows.",
                errors=[field_error(["query", "block_size"], "too many comparisons")],
            )
        pairs = cursor.execute(
            """
            WITH blocks AS (
                SELECT DISTINCT
                    v, substr(v, unnest(range(1, length(v) - $size + 2)), $size) AS block
                FROM cluster_values
                WHERE length(v) >= $size
            ),
            candidates AS (
                SELECT DISTINCT a.v AS a, b.v AS b
                FROM blocks a JOIN blocks b ON a.block = b.block AND a.v < b.v
            )
            SELECT a, b FROM candidates WHERE levenshtein(a, b) <= $radius
            """,
            {"size": block_size, "radius": radius},
        ).fetchall()
    finally:
        cursor.unregister("cluster_values")
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    groups = {frozenset({value, *near}) for value, near in neighbours.items()}
    return [sorted(group) for group in _maximal(groups)]


def _maximal(groups: Iterable[frozenset[str]]) -> list[frozenset[str]]:
    """The groups not contained in another."""
    ordered = sorted(groups, key=len, reverse=True)
    kept: list[frozenset[str]] = []
    for group in ordered:
        if not any(group <= other for other in kept):
            kept.append(group)
    return kept


def public(cluster: Cluster) -> dict[str, Any]:
    return {
        "values": [{"value": value, "count": count} for value, count in cluster.values],
        "rows": cluster.rows,
        "suggestion": cluster.suggestion,
    }
